// Input hardening (issue 12 item 5): every reader of outside input — cluster files from disk,
// node.yaml, state snapshots, saved plans, killtcp connection lines and the daemons' NATS
// messages — never throws anything but its own clear error, and never hangs (bounded runs,
// each well inside the jest timeout). The loader's mutation properties live in
// config-property.test.ts; here the file reader path (bytes on disk) is fuzzed.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import fc from 'fast-check'
import {ConfigError, readConfig} from '../../src/config/index.js'
import {parsePlanText, PlanFileError} from '../../src/cli/plan-file.js'
import {parseStateText, StateFileError} from '../../src/cli/state-file.js'
import {readNodeSettings} from '../../src/daemon/node-settings.js'
import {formatConnection, parseConnectionLines} from '../../src/net/connections.js'
import {encode, parseControlReply, parseControlRequest, parseDeparture, parseHeartbeat} from '../../src/protocol/messages.js'

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-fuzz-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

type Json = null | boolean | number | string | Json[] | {[k: string]: Json}

/** A valid JSON document with one value somewhere replaced, removed or retyped. */
function mutatedJson(base: Json): fc.Arbitrary<string> {
  const paths: (string | number)[][] = []
  const walk = (v: Json, at: (string | number)[]) => {
    paths.push(at)
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]))
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k])
  }
  walk(base, [])
  return fc.tuple(fc.nat(), fc.oneof(fc.jsonValue(), fc.constant(undefined)), fc.boolean()).map(([pick, value, truncate]) => {
    const doc = structuredClone(base)
    const path = paths[pick % paths.length]
    if (path.length === 0) return JSON.stringify(value ?? null)
    let parent = doc as Record<string | number, Json>
    for (const t of path.slice(0, -1)) parent = parent[t] as Record<string | number, Json>
    const key = path[path.length - 1]
    if (value === undefined) delete parent[key]
    else parent[key] = value as Json
    const text = JSON.stringify(doc)
    return truncate ? text.slice(0, pick % (text.length + 1)) : text
  })
}

/** Arbitrary text, including control characters, lone surrogates and long lines. */
const anyText = fc.oneof(fc.string({unit: 'binary', maxLength: 400}), fc.string({maxLength: 2000}), fc.string({unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', '0', '-', 'e', ' ', '\n'), maxLength: 200}))

describe('state snapshot reader (--state FILE)', () => {
  const valid = JSON.parse(readFileSync('test/fixtures/plan/state.json', 'utf8')) as Json

  it('returns a snapshot or a StateFileError naming the file, for mutated and random input', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedJson(valid), anyText), (text) => {
        try {
          const state = parseStateText(text, 'snap.json')
          expect(Array.isArray(state.nodes)).toBe(true)
          expect(Array.isArray(state.publicAddresses)).toBe(true)
        } catch (e) {
          expect(e).toBeInstanceOf(StateFileError)
          for (const line of (e as Error).message.split('\n')) expect(line).toMatch(/^snap\.json: \S/)
        }
      }),
      {numRuns: 600},
    )
  })
})

describe('saved plan reader (apply --plan)', () => {
  const valid = JSON.parse(readFileSync('test/fixtures/plan/change.json', 'utf8')) as Json

  it('the fixture reads back', () => {
    expect(parsePlanText(JSON.stringify(valid), 'p.json').planBase).toMatch(/^[0-9a-f]{64}$/)
  })

  it('returns the config to apply or a PlanFileError naming the file', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedJson(valid), anyText), (text) => {
        try {
          const plan = parsePlanText(text, 'p.json')
          expect(typeof plan.yaml).toBe('string')
          expect(plan.planBase === null || /^[0-9a-f]{64}$/.test(plan.planBase)).toBe(true)
        } catch (e) {
          expect(e).toBeInstanceOf(PlanFileError)
          expect((e as Error).message).toMatch(/^p\.json is not a plan written by `ctdbctl plan --out`: \S/)
        }
      }),
      {numRuns: 600},
    )
  })
})

describe('killtcp connection lines', () => {
  const addr = fc.oneof(
    fc.tuple(fc.ipV4(), fc.integer({min: -5, max: 70000})).map(([a, p]) => `${a}:${p}`),
    fc.tuple(fc.ipV6(), fc.integer({min: 0, max: 65535})).map(([a, p]) => `[${a}]:${p}`),
    fc.string({unit: fc.constantFrom('1', '0', '.', ':', '[', ']', 'f', ' ', '\t', '\r', '%'), maxLength: 30}),
  )
  const lines = fc.array(fc.oneof(fc.tuple(addr, addr).map(([a, b]) => `${a} ${b}`), addr, fc.constant('# comment'), fc.constant('')), {maxLength: 20}).map((l) => l.join('\n'))

  it('never throws; every line is a connection, a comment/blank, or an error with its line number', () => {
    fc.assert(
      fc.property(fc.oneof(lines, anyText), (text) => {
        const {connections, errors} = parseConnectionLines(text)
        const count = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
        for (const e of errors) {
          expect(e.line).toBeGreaterThanOrEqual(1)
          expect(e.line).toBeLessThanOrEqual(count)
          expect(e.reason.length).toBeGreaterThan(0)
        }
        // What parsed prints back in a form that parses to the same connections.
        const again = parseConnectionLines(connections.map(formatConnection).join('\n'))
        expect(again.errors).toEqual([])
        expect(again.connections.map(formatConnection)).toEqual(connections.map(formatConnection))
      }),
      {numRuns: 1000},
    )
  })
})

describe('NATS message parsers (the daemons\' input)', () => {
  const heartbeat = {v: 1, pnn: 1, incarnation: 'abc', seq: 3, flags: [], holdsLock: false, leader: 0, generation: 7, uptimeMs: 100, configRevision: 2, converged: true, held: ['10.0.0.1'], interfaces: {eth0: 'up'}}
  const controls: Json[] = [
    {v: 1, op: 'ban', seconds: 10},
    {v: 1, op: 'takeover', run: 1, phase: 'take', addresses: ['10.0.0.1'], configRevision: 2},
    {v: 1, op: 'moveip', address: '10.0.0.1', pnn: 1},
    {v: 1, op: 'disable'},
  ]
  const reply = {ok: true, changed: false, state: {cluster: 'c', nodes: [], publicAddresses: []}}
  const bytes = (text: string) => new TextEncoder().encode(text)
  const inputs = (valid: Json) => fc.oneof(mutatedJson(valid).map(bytes), anyText.map(bytes), fc.uint8Array({maxLength: 300}))

  it('heartbeats and departures: a message or undefined, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(inputs(heartbeat), inputs({v: 1, pnn: 2, incarnation: 'x'})), (data) => {
        const hb = parseHeartbeat(data)
        if (hb) {
          expect(Number.isInteger(hb.pnn)).toBe(true)
          expect(Array.isArray(hb.held)).toBe(true)
        }
        const d = parseDeparture(data)
        if (d) expect(typeof d.incarnation).toBe('string')
      }),
      {numRuns: 1000},
    )
  })

  it('control requests: a request or an error text, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(...controls.map(inputs)), (data) => {
        const r = parseControlRequest(data)
        if (typeof r === 'string') expect(r.length).toBeGreaterThan(0)
        else expect(r.v).toBe(1)
      }),
      {numRuns: 1000},
    )
  })

  it('control replies: a reply with a usable state, or undefined', () => {
    fc.assert(
      fc.property(inputs(reply), (data) => {
        const r = parseControlReply(data)
        if (r?.ok) {
          expect(Array.isArray(r.state.nodes)).toBe(true)
          expect(Array.isArray(r.state.publicAddresses)).toBe(true)
        }
      }),
      {numRuns: 1000},
    )
  })

  it('the valid messages parse (the fuzzing starts from real input)', () => {
    expect(parseHeartbeat(encode(heartbeat))).toBeDefined()
    for (const c of controls) expect(typeof parseControlRequest(encode(c))).toBe('object')
    expect(parseControlReply(encode(reply))).toBeDefined()
  })
})

describe('files on disk', () => {
  const cluster = readFileSync('examples/three-node.yaml')

  it('cluster files: random bytes, truncations and byte flips give a config or a ConfigError', async () => {
    const file = join(dir, 'cluster.yaml')
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({maxLength: 500}).map((b) => Buffer.from(b)),
          fc.tuple(fc.nat(), fc.integer({min: 0, max: 255})).map(([pos, byte]) => {
            const b = Buffer.from(cluster)
            b[pos % b.length] = byte
            return b
          }),
          fc.nat().map((n) => cluster.subarray(0, n % cluster.length)),
        ),
        async (bytes) => {
          writeFileSync(file, bytes)
          try {
            await readConfig(file)
          } catch (e) {
            expect(e).toBeInstanceOf(ConfigError)
            expect((e as Error).message).toMatch(new RegExp(`^${file} is not a valid cluster file \\(\\d+ errors?\\):\\n${file}:\\d+:\\d+: `))
          }
        },
      ),
      {numRuns: 300},
    )
  })

  it('a YAML alias bomb is refused, not expanded', async () => {
    const file = join(dir, 'bomb.yaml')
    const levels = Array.from({length: 12}, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`)
    writeFileSync(file, ['a: &l0 [x]', ...levels].join('\n') + '\n')
    await expect(readConfig(file)).rejects.toThrow(ConfigError)
  })

  it('node.yaml: settings or an error naming the file', () => {
    const file = join(dir, 'node.yaml')
    fc.assert(
      fc.property(
        fc.oneof(anyText, fc.dictionary(fc.constantFrom('config', 'node', 'dataDir', 'natsCredentials', 'bogus', '__proto__'), fc.jsonValue()).map((d) => JSON.stringify(d))),
        (text) => {
          writeFileSync(file, text)
          try {
            const s = readNodeSettings(file, true)
            for (const v of Object.values(s)) expect(typeof v).toBe('string')
          } catch (e) {
            expect(e).toBeInstanceOf(Error)
            expect((e as Error).message.startsWith(file)).toBe(true)
          }
        },
      ),
      {numRuns: 400},
    )
  })
})
