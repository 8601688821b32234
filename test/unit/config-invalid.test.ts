// The corpus of invalid cluster files (test/fixtures/invalid): each file names, in its header,
// every error it must produce (`# expect: LINE:COL RULE MESSAGE-FRAGMENT`), and nothing else.
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {loadConfigText, type Problem} from '../../src/config/index.js'
import {FORMATS} from '../../src/config/formats.js'
import {MAX_CONFIG_BYTES} from '../../src/config/yaml-source.js'

const DIR = path.resolve('test/fixtures/invalid')
const FIXTURE_NAME = /^\d\d-[a-z0-9-]+\.yaml$/
const EXPECT = /^# expect: (\d+):(\d+) (\S+) (.+)$/

interface Expectation {
  line: number
  column: number
  rule: string
  fragment: string
}

function readExpectations(text: string): Expectation[] {
  const out: Expectation[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('# expect:')) break
    const m = EXPECT.exec(line)
    if (!m) throw new Error(`malformed expect line: ${line}`)
    out.push({line: Number(m[1]), column: Number(m[2]), rule: m[3], fragment: m[4]})
  }
  return out
}

const show = (p: Problem) => `${p.line}:${p.column} ${p.rule} ${p.message} (at ${p.pointer})`

/** Pairs every expectation with a distinct error; returns what is left over on either side. */
function match(expected: Expectation[], errors: Problem[]): {missing: Expectation[]; unexpected: Problem[]} {
  const left = [...errors]
  const missing: Expectation[] = []
  for (const e of expected) {
    const i = left.findIndex((p) => p.line === e.line && p.column === e.column && p.rule === e.rule && p.message.includes(e.fragment))
    if (i < 0) missing.push(e)
    else left.splice(i, 1)
  }
  return {missing, unexpected: left}
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()
const corpus = files.map((file) => {
  const text = readFileSync(path.join(DIR, file), 'utf8')
  return {file, text, expected: readExpectations(text)}
})

describe('invalid config corpus', () => {
  it('holds at least 40 fixtures, each named NN-short-name.yaml with at least one expectation', () => {
    expect(files.length).toBeGreaterThanOrEqual(40)
    expect(files.filter((f) => !FIXTURE_NAME.test(f))).toEqual([])
    expect(corpus.filter((c) => c.expected.length === 0).map((c) => c.file)).toEqual([])
    // Fixture numbers are unique.
    const numbers = files.map((f) => f.slice(0, 2))
    expect(new Set(numbers).size).toBe(numbers.length)
  })

  it.each(corpus.map((c) => [c.file, c] as const))('%s yields exactly the expected errors', (_name, {file, text, expected}) => {
    const result = loadConfigText(text, file, {localChecks: false})
    const errors = result.problems.filter((p) => p.severity === 'error')
    const {missing, unexpected} = match(expected, errors)
    expect({missing, unexpected: unexpected.map(show)}).toEqual({missing: [], unexpected: []})
    expect(result.config).toBeUndefined()
    for (const p of result.problems) {
      expect(p.pointer === '' || p.pointer.startsWith('/')).toBe(true)
      expect(p.message.length).toBeGreaterThan(0)
    }
  })

  it('is the same with local checks on (local checks only ever add warnings)', () => {
    for (const {file, text} of corpus) {
      const off = loadConfigText(text, file, {localChecks: false}).problems.filter((p) => p.severity === 'error')
      const on = loadConfigText(text, file).problems.filter((p) => p.severity === 'error')
      expect({file, errors: on}).toEqual({file, errors: off})
    }
  })

  it('covers every semantic error rule of src/config/semantic.ts', () => {
    const source = readFileSync('src/config/semantic.ts', 'utf8')
    // Every rule id literal; local.* rules only ever warn (see config-valid.test.ts).
    const families = 'nodes|refs|addresses|natgw|lvs|lock|databases|services|tunables|nats'
    const rules = new Set([...source.matchAll(new RegExp(`'((?:${families})\\.[a-z0-9-]+)'`, 'g'))].map((m) => m[1]))
    expect(rules).toContain('tunables.range')
    expect(rules.size).toBeGreaterThan(30)
    const covered = new Set(corpus.flatMap((c) => c.expected.map((e) => e.rule)))
    expect([...rules].filter((r) => !covered.has(r)).sort()).toEqual([])
  })

  it('covers every custom string format of the schema and the main schema keywords', () => {
    const covered = new Set(corpus.flatMap((c) => c.expected.map((e) => e.rule)))
    const wanted = [
      ...Object.keys(FORMATS).map((f) => `schema.format.${f}`),
      'schema.unknown-key',
      'schema.required',
      'schema.type',
      'schema.const',
      'schema.enum',
      'schema.minimum',
      'schema.maximum',
      'schema.min-items',
      'schema.min-length',
      'yaml.syntax',
      'yaml.duplicate-key',
      'yaml.multiple-documents',
      'yaml.empty',
      'yaml.aliases',
    ]
    expect(wanted.filter((r) => !covered.has(r))).toEqual([])
  })
})

describe('size limit', () => {
  const valid = readFileSync('examples/three-node.yaml', 'utf8')

  it('rejects a file over 1 MiB at 1:1 without parsing it', () => {
    const filler = '# ' + 'x'.repeat(98) + '\n'
    const text = valid + filler.repeat(Math.ceil(MAX_CONFIG_BYTES / filler.length) + 1)
    expect(Buffer.byteLength(text)).toBeGreaterThan(1024 * 1024)
    const result = loadConfigText(text, 'big.yaml', {localChecks: false})
    expect(result.config).toBeUndefined()
    expect(result.problems).toEqual([
      {severity: 'error', rule: 'yaml.size', message: expect.stringContaining('larger than 1024 KiB'), pointer: '', line: 1, column: 1},
    ])
  })

  it('counts bytes, not characters', () => {
    // 600,000 two-byte characters: under a million characters, over a mebibyte.
    const text = valid + '# ' + 'é'.repeat(600_000) + '\n'
    expect(text.length).toBeLessThan(MAX_CONFIG_BYTES)
    expect(loadConfigText(text, 'big.yaml', {localChecks: false}).problems.map((p) => p.rule)).toEqual(['yaml.size'])
  })

  it('accepts a valid file of exactly 1 MiB', () => {
    const pad = MAX_CONFIG_BYTES - Buffer.byteLength(valid) - 1
    const text = valid + '#' + 'x'.repeat(pad - 1) + '\n'
    expect(Buffer.byteLength(text)).toBe(MAX_CONFIG_BYTES)
    const result = loadConfigText(text, 'edge.yaml', {localChecks: false})
    expect(result.problems).toEqual([])
    expect(result.config).toBeDefined()
  })
})
