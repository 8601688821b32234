// `ctdbctl import` end to end through the built CLI (npm run build first).
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

const ROOT = process.cwd()
const RUN = path.join(ROOT, 'bin/run.js')
const REALISTIC = 'test/fixtures/ctdb/realistic'

function ctdbctl(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [RUN, ...args], {cwd: ROOT, encoding: 'utf8', input, env: {...process.env, NO_COLOR: '1'}})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

let dir = ''
beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist/commands/import.js'))) throw new Error('dist/commands/import.js is missing: run `npm run build` first')
  dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-import-cli-'))
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('ctdbctl import', () => {
  test('prints a valid cluster file on stdout and FILE:LINE: warning: MESSAGE lines on stderr', () => {
    const r = ctdbctl(['import', '--ctdb-dir', REALISTIC])
    expect(r.status).toBe(0)
    expect(r.stdout.startsWith('# yaml-language-server: $schema=')).toBe(true)
    expect(r.stdout).toContain('name: realistic')
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(10)
    for (const line of lines) expect(line).toMatch(/^test\/fixtures\/ctdb\/realistic\/[^:]+(:\d+)?: warning: \S/)
    expect(lines).toContain(`${REALISTIC}/natgw_nodes:3: warning: "slave-only" is the spelling used before CTDB 4.13 (CTDB 4.13 and later reject it): translated to followerOnly: true`)
    const check = ctdbctl(['validate', '--no-local-checks', '-'], r.stdout)
    expect(check.stderr).toBe('')
    expect(check.status).toBe(0)
  })

  test('--out writes the file, refuses to overwrite it without --force', () => {
    const out = path.join(dir, 'cluster.yaml')
    const first = ctdbctl(['import', '--ctdb-dir', REALISTIC, '--name', 'fs-prod', '--out', out])
    expect(first.status).toBe(0)
    expect(first.stdout).toBe('')
    expect(first.stderr).toContain(`Wrote ${out}`)
    expect(readFileSync(out, 'utf8')).toContain('name: fs-prod')
    writeFileSync(out, 'mine\n')
    const again = ctdbctl(['import', '--ctdb-dir', REALISTIC, '--out', out])
    expect(again.status).toBe(1)
    expect(again.stderr).toContain('already exists')
    expect(readFileSync(out, 'utf8')).toBe('mine\n')
    expect(ctdbctl(['import', '--ctdb-dir', REALISTIC, '--out', out, '--force']).status).toBe(0)
    expect(readFileSync(out, 'utf8')).toContain('apiVersion: ctdbctl/v1')
  })

  test('--json prints the YAML and the located warnings', () => {
    const r = ctdbctl(['import', '--ctdb-dir', REALISTIC, '--json'])
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
    const json = JSON.parse(r.stdout) as {yaml: string; warnings: {file: string; line?: number; message: string}[]}
    expect(json.yaml).toContain('kind: Cluster')
    expect(json.warnings).toContainEqual({file: `${REALISTIC}/ctdb.tunables`, line: 8, message: expect.stringContaining('DatabaseHashSize')})
  })

  test('--public-addresses PNN=FILE restricts addresses to the nodes listing them', () => {
    const r = ctdbctl(['import', '--ctdb-dir', 'test/fixtures/ctdb/per-node', '--public-addresses', '0=public_addresses.0', '--public-addresses', '1=public_addresses.1', '--public-addresses', '2=public_addresses.2'])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('- {address: 10.20.2.10/24, interfaces: [eth2], nodes: [node2]}')
  })

  test('usage errors exit 2 with one clear sentence', () => {
    const missing = ctdbctl(['import', '--ctdb-dir', path.join(dir, 'nope')])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain(`The CTDB directory ${path.join(dir, 'nope')} does not exist`)
    const badPa = ctdbctl(['import', '--ctdb-dir', REALISTIC, '--public-addresses', 'zero=x'])
    expect(badPa.status).toBe(2)
    expect(badPa.stderr).toContain('is not PNN=FILE')
    const noFile = ctdbctl(['import', '--ctdb-dir', REALISTIC, '--public-addresses', '0=missing'])
    expect(noFile.status).toBe(2)
    expect(noFile.stderr).toContain('no such file')
  })

  test('a configuration CTDB would refuse exits 1 with FILE:LINE: error lines', () => {
    const broken = mkdtempSync(path.join(dir, 'broken-'))
    writeFileSync(path.join(broken, 'nodes'), '10.0.0.1\nnot-an-address\n')
    const r = ctdbctl(['import', '--ctdb-dir', broken])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`${broken}/nodes:2: error: Invalid node address not-an-address`)
  })
})
