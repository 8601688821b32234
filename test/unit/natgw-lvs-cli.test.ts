// `ctdbctl natgw|lvs leader|list|status` end to end through the built CLI (npm run build first).
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

const ROOT = process.cwd()
const RUN = path.join(ROOT, 'bin/run.js')

const CONFIG = `apiVersion: ctdbctl/v1
kind: Cluster
metadata:
  name: fs-test
spec:
  nats:
    servers: [nats://127.0.0.1:1]  # loopback, nothing listens: tests never reach other hosts
  nodes:
    - {pnn: 0, name: fs1, address: 192.168.20.41}
    - {pnn: 1, name: fs2, address: 192.168.20.42}
    - {pnn: 2, name: fs3, address: 192.168.20.43}
    - {pnn: 3, name: fs4, address: 192.168.20.44, deleted: true}
  natgw:
    - name: ng1
      publicAddress: 10.1.1.121/24
      publicInterface: eth1
      privateNetwork: 192.168.20.0/24
      defaultGateway: 10.1.1.254
      nodes: [{node: fs3, followerOnly: true}, fs2, fs1]
  lvs:
    - name: lvs1
      address: 10.1.1.201
      interface: eth1
      nodes: [fs1, fs2, {node: fs3, followerOnly: true}]
`

const TWO_GROUPS = CONFIG.replace('  lvs:\n', `    - name: ng2
      publicAddress: 10.1.2.121/24
      publicInterface: eth2
      privateNetwork: 192.168.20.0/24
      nodes: [{node: fs1, followerOnly: true}, fs2]
  lvs:
`)

function state(flags: string[][], thisNode = 1): string {
  return JSON.stringify({
    cluster: 'fs-test',
    thisNode,
    nodes: flags.map((f, pnn) => ({pnn, flags: f})),
    publicAddresses: [],
  })
}

let dir = ''
const file = (name: string, text: string) => {
  const p = path.join(dir, name)
  writeFileSync(p, text)
  return p
}

function ctdbctl(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [RUN, ...args], {cwd: dir, encoding: 'utf8', env: {...process.env, ...env, CTDBCTL_CONFIG: env.CTDBCTL_CONFIG ?? ''}})
  return {stdout: r.stdout, stderr: r.stderr, status: r.status}
}

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist/commands/natgw/leader.js'))) {
    throw new Error('dist/commands/natgw/leader.js is missing: run `npm run build` before this test')
  }
  dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-natgw-cli-'))
  file('cluster.yaml', CONFIG)
  file('two.yaml', TWO_GROUPS)
  file('unhealthy0.json', state([['UNHEALTHY'], [], []]))
  file('disabled.json', state([['DISABLED'], ['DISABLED'], ['DISABLED']], 0))
  file('disabled1.json', state([[], ['DISABLED'], []]))
  file('bad.json', JSON.stringify({cluster: 'x', nodes: [{pnn: 0, flags: ['SLEEPY']}]}))
})

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('ctdbctl natgw', () => {
  test('leader', () => {
    expect(ctdbctl(['natgw', 'leader', '--config', 'cluster.yaml', '--state', 'unhealthy0.json']))
      .toEqual({stdout: '1 192.168.20.42\n', stderr: '', status: 0})
  })

  test('list keeps the config order', () => {
    expect(ctdbctl(['natgw', 'list', '--config', 'cluster.yaml', '--state', 'unhealthy0.json'])).toEqual({
      stdout: '192.168.20.43\tfollower-only\n192.168.20.42\tLEADER\n192.168.20.41\n', stderr: '', status: 0,
    })
  })

  test('status: PNN order, (THIS NODE), deleted never listed', () => {
    expect(ctdbctl(['natgw', 'status', '--config', 'cluster.yaml', '--state', 'unhealthy0.json'])).toEqual({
      stdout: 'pnn:0 192.168.20.41    UNHEALTHY\npnn:1 192.168.20.42    OK (THIS NODE)\npnn:2 192.168.20.43    OK\n',
      stderr: '',
      status: 0,
    })
  })

  test('no leader: no output, exit 2; --group picks the group; config from CTDBCTL_CONFIG', () => {
    expect(ctdbctl(['natgw', 'leader', '--state', 'disabled1.json', '--group', 'ng1'], {CTDBCTL_CONFIG: 'two.yaml'}))
      .toEqual({stdout: '0 192.168.20.41\n', stderr: '', status: 0})
    expect(ctdbctl(['natgw', 'leader', '--state', 'disabled1.json', '--group', 'ng2'], {CTDBCTL_CONFIG: 'two.yaml'}))
      .toEqual({stdout: '', stderr: '', status: 2})
  })

  test('several groups and no --group: error listing them', () => {
    const r = ctdbctl(['natgw', 'leader', '--config', 'two.yaml', '--state', 'unhealthy0.json'])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('two.yaml defines several NAT gateway groups (ng1, ng2): choose one with --group NAME')
  })

  test('--json', () => {
    const r = ctdbctl(['natgw', 'leader', '--config', 'cluster.yaml', '--state', 'unhealthy0.json', '--json'])
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({command: 'leader', group: 'ng1', leader: {pnn: 1, address: '192.168.20.42', pass: 1}})
  })
})

describe('ctdbctl lvs', () => {
  test('leader, list, status', () => {
    expect(ctdbctl(['lvs', 'leader', '--config', 'cluster.yaml', '--state', 'unhealthy0.json'])).toEqual({stdout: '1\n', stderr: '', status: 0})
    expect(ctdbctl(['lvs', 'list', '--config', 'cluster.yaml', '--state', 'unhealthy0.json']))
      .toEqual({stdout: '1 192.168.20.42\n2 192.168.20.43\n', stderr: '', status: 0})
    expect(ctdbctl(['lvs', 'status', '--config', 'cluster.yaml', '--state', 'unhealthy0.json'])).toEqual({
      stdout: 'pnn:0 192.168.20.41    UNHEALTHY\npnn:1 192.168.20.42    OK (THIS NODE)\npnn:2 192.168.20.43    OK\n',
      stderr: '',
      status: 0,
    })
  })

  test('no usable node: leader exits 255, list exits 0, both silent', () => {
    expect(ctdbctl(['lvs', 'leader', '--config', 'cluster.yaml', '--state', 'disabled.json'])).toEqual({stdout: '', stderr: '', status: 255})
    expect(ctdbctl(['lvs', 'list', '--config', 'cluster.yaml', '--state', 'disabled.json'])).toEqual({stdout: '', stderr: '', status: 0})
    const json = ctdbctl(['lvs', 'leader', '--config', 'cluster.yaml', '--state', 'disabled.json', '--json'])
    expect(json.status).toBe(255)
    expect(JSON.parse(json.stdout)).toEqual({command: 'leader', group: 'lvs1', leader: null})
  })
})

describe('errors', () => {
  test('no --state and an unreachable cluster: CTDB\'s connection-failure text, exit 1', () => {
    const r = ctdbctl(['lvs', 'status', '--config', 'cluster.yaml', '-T', '2'])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/^connect\(\) failed, errno=111\nFailed to connect to CTDB daemon \(nats:\/\/[^)]+\)\n/)
  })

  test('missing and invalid config', () => {
    const missing = ctdbctl(['lvs', 'status', '--config', 'nope.yaml', '--state', 'unhealthy0.json'])
    expect(missing).toEqual({stdout: '', stderr: 'Error: nope.yaml: no such file\n', status: 1})
    file('invalid.yaml', CONFIG.replace('kind: Cluster', 'kind: Clutser'))
    const invalid = ctdbctl(['lvs', 'status', '--config', 'invalid.yaml', '--state', 'unhealthy0.json'])
    expect(invalid.status).toBe(1)
    expect(invalid.stderr).toMatch(/^Error: invalid\.yaml is not a valid cluster file/)
  })

  test('invalid state file names the file and the JSON pointer', () => {
    const r = ctdbctl(['natgw', 'status', '--config', 'cluster.yaml', '--state', 'bad.json'])
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('bad.json: must be one of')
    expect(r.stderr).toContain('(at /nodes/0/flags/0)')
  })

  test('unknown group', () => {
    const r = ctdbctl(['lvs', 'list', '--config', 'cluster.yaml', '--state', 'unhealthy0.json', '--group', 'nope'])
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('cluster.yaml has no LVS group "nope"; its groups are: lvs1')
  })
})
