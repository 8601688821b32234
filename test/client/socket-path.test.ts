import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DEFAULT_SOCKET, resolveSocketPath} from '../../src/client/socket-path.js'

describe('where clients find the daemon socket', () => {
  const saved = process.env.CTDBCTL_SOCKET
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctdbctl-sockpath-'))
    delete process.env.CTDBCTL_SOCKET
  })
  afterEach(() => {
    rmSync(dir, {recursive: true, force: true})
    if (saved === undefined) delete process.env.CTDBCTL_SOCKET
    else process.env.CTDBCTL_SOCKET = saved
  })

  test('an explicit path, then $CTDBCTL_SOCKET, then node.yaml socket or dataDir, then the default; a missing node settings file given explicitly is an error', () => {
    const nodeYaml = join(dir, 'node.yaml')
    writeFileSync(nodeYaml, 'dataDir: /srv/ctdbctl\n')
    expect(resolveSocketPath(undefined, nodeYaml)).toBe('/srv/ctdbctl/ctdbd.socket')
    writeFileSync(nodeYaml, 'dataDir: /srv/ctdbctl\nsocket: /run/ctdbctl/c.sock\n')
    expect(resolveSocketPath(undefined, nodeYaml)).toBe('/run/ctdbctl/c.sock')
    process.env.CTDBCTL_SOCKET = '/env.sock'
    expect(resolveSocketPath(undefined, nodeYaml)).toBe('/env.sock')
    expect(resolveSocketPath('/flag.sock', nodeYaml)).toBe('/flag.sock')
    delete process.env.CTDBCTL_SOCKET
    writeFileSync(nodeYaml, 'logLevel: info\n')
    expect(resolveSocketPath(undefined, nodeYaml)).toBe(DEFAULT_SOCKET)
    expect(() => resolveSocketPath(undefined, join(dir, 'missing.yaml'))).toThrow(/cannot read node settings .*missing.yaml/)
  })
})
