// `ctdbctl ipalloc`: the built CLI (npm run build) on vectors, standard input and bad input.
import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

const ROOT = process.cwd()
const RUN = path.join(ROOT, 'bin/run.js')
const VECTORS = path.resolve(ROOT, '../shared/vectors')

interface Result {
  code: number
  stdout: string
  stderr: string
}

function ctdbctl(args: string[], stdin?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [RUN, ...args], {cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: {...process.env, OCLIF_COLUMNS: '1000'}}, (error, stdout, stderr) => {
      resolve({code: error ? ((error as {code?: number}).code ?? 1) : 0, stdout, stderr})
    })
    child.stdin!.end(stdin ?? '')
  })
}

function vector(name: string): {file: string; expected: [string, number][]} {
  const file = path.join(VECTORS, name)
  if (!existsSync(file)) throw new Error(`test vector not found: ${file} (expected ../shared/vectors relative to the repository root)`)
  return {file, expected: (JSON.parse(readFileSync(file, 'utf8')) as {expected: [string, number][]}).expected}
}

const lines = (expected: [string, number][]) => expected.map(([a, p]) => `${a} ${p}\n`).join('')

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist/commands/ipalloc.js'))) {
    throw new Error('dist/commands/ipalloc.js is missing: run `npm run build` before the command tests')
  }
})

describe('ctdbctl ipalloc', () => {
  test.each(['ipalloc/lcp2.027.json', 'ipalloc/det.004.json', 'ipalloc/nondet.003.json', 'ipalloc-random/random-1-0008.json'])('%s prints ADDRESS PNN lines', async (name) => {
    const {file, expected} = vector(name)
    const r = await ctdbctl(['ipalloc', file])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(lines(expected))
  })

  test('- reads standard input; --json prints [[address, pnn], …]', async () => {
    const {file, expected} = vector('ipalloc/lcp2.016.json')
    const r = await ctdbctl(['ipalloc', '-', '--json'], readFileSync(file, 'utf8'))
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual(expected)
  })

  test('--algorithm overrides the problem', async () => {
    const {file} = vector('ipalloc/lcp2.001.json')
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    const dir = mkdtempSync(path.join(tmpdir(), 'ipalloc-'))
    const det = path.join(dir, 'det.json')
    writeFileSync(det, JSON.stringify({...json, algorithm: 'deterministic'}))
    const expected = await ctdbctl(['ipalloc', det])
    const r = await ctdbctl(['ipalloc', file, '--algorithm', 'deterministic'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(expected.stdout)
  })

  test('an invalid problem: one sentence naming the file and the field, exit 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ipalloc-'))
    const bad = path.join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({nodes: [{pnn: 0, flags: []}], ips: [{address: '10.0.0.1', current: 0}, {address: '1.2.3', current: 0}]}))
    const r = await ctdbctl(['ipalloc', bad])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`${bad}: invalid allocation problem: ips[1].address: "1.2.3" is not an IPv4 or IPv6 address.`)
  })

  test('invalid JSON on standard input: exit 1', async () => {
    const r = await ctdbctl(['ipalloc', '-'], '{"nodes": [')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('standard input: not valid JSON')
  })

  test('a missing file: exit 2', async () => {
    const r = await ctdbctl(['ipalloc', path.join(tmpdir(), 'no-such-problem.json')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no-such-problem.json: no such file.')
  })
})
