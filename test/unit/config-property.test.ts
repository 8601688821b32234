// Property tests of the loader: random mutations of the valid examples (delete, duplicate,
// retype, overwrite, corrupt addresses, unknown keys) and random text. Whatever the input, the
// loader never throws and either succeeds or reports located errors.
import {readFileSync} from 'node:fs'
import fc from 'fast-check'
import {parse, stringify} from 'yaml'
import {loadConfigText, type Problem} from '../../src/config/index.js'
import {escapePointerToken} from '../../src/config/problems.js'

type Json = null | boolean | number | string | Json[] | {[k: string]: Json}
type Path = (string | number)[]

const EXAMPLES = ['three-node', 'samba-nfs', 'lvs', 'large-64-nodes'] as const
const texts = Object.fromEntries(EXAMPLES.map((n) => [n, readFileSync(`examples/${n}.yaml`, 'utf8')])) as Record<(typeof EXAMPLES)[number], string>
const docs = Object.fromEntries(EXAMPLES.map((n) => [n, parse(texts[n]) as Json])) as Record<(typeof EXAMPLES)[number], Json>

// ---------------------------------------------------------------------------------------------
// JSON paths

function allPaths(v: Json, at: Path = [], out: Path[] = []): Path[] {
  if (at.length > 0) out.push(at)
  if (Array.isArray(v)) v.forEach((x, i) => allPaths(x, [...at, i], out))
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) allPaths(x, [...at, k], out)
  return out
}

function getAt(v: Json, p: Path): Json {
  let cur = v
  for (const t of p) cur = (cur as Record<string | number, Json>)[t]
  return cur
}

function parentOf(root: Json, p: Path): {parent: Json[] | {[k: string]: Json}; key: string | number} {
  return {parent: getAt(root, p.slice(0, -1)) as Json[] | {[k: string]: Json}, key: p[p.length - 1]}
}

const toPointer = (p: Path) => p.map((t) => '/' + escapePointerToken(t)).join('')

// ---------------------------------------------------------------------------------------------
// Mutations

const MUTATIONS = ['delete', 'duplicate-item', 'retype', 'set-string', 'set-number', 'set-value', 'corrupt-address', 'unknown-key'] as const

const anyValue = fc.oneof<fc.Arbitrary<Json>[]>(
  fc.string({maxLength: 20}),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({maxLength: 8}), {maxLength: 3}),
  fc.dictionary(fc.string({maxLength: 8}), fc.string({maxLength: 8}), {maxKeys: 2}),
)

const mutationArb = fc.record({
  kind: fc.constantFrom(...MUTATIONS),
  pick: fc.nat(),
  pick2: fc.nat(),
  text: fc.string({maxLength: 24}),
  number: fc.oneof(fc.integer(), fc.integer({min: -2, max: 70_000}), fc.double()),
  value: anyValue,
  key: fc.oneof(fc.constantFrom('extra', 'adress', 'Name', 'pnn ', '<<', '~', 'a/b'), fc.string({minLength: 1, maxLength: 12})),
  char: fc.constantFrom('0', '9', '.', ':', '/', '-', 'a', 'x', ' ', '%', '@', '1', '25', ''),
})
type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never

/** A different type holding something like the old value. */
function retype(v: Json): Json {
  if (typeof v === 'string') return /^\d+$/.test(v) ? Number(v) : [v]
  if (typeof v === 'number') return String(v)
  if (typeof v === 'boolean') return v ? 'true' : 0
  if (v === null) return {}
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]))
  return Object.values(v)
}

const isAddressLike = (v: Json): v is string => typeof v === 'string' && /\d/.test(v) && /[.:]/.test(v)

/** Applies one mutation in place (on a copy owned by the caller); returns what it did. */
function mutate(root: Json, m: Mutation): string {
  const paths = allPaths(root)
  if (paths.length === 0) return 'nothing to mutate'
  const p = paths[m.pick % paths.length]
  const {parent, key} = parentOf(root, p)
  const set = (v: Json) => {
    ;(parent as Record<string | number, Json>)[key] = v
  }
  switch (m.kind) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1)
      else delete parent[key as string]
      return `delete ${toPointer(p)}`
    case 'duplicate-item': {
      const lists = paths.filter((q) => Array.isArray(getAt(root, q)) && (getAt(root, q) as Json[]).length > 0)
      if (lists.length === 0) return 'no list'
      const q = lists[m.pick % lists.length]
      const list = getAt(root, q) as Json[]
      const i = m.pick2 % list.length
      list.splice(i, 0, structuredClone(list[i]))
      return `duplicate ${toPointer(q)}/${i}`
    }
    case 'retype':
      set(retype(getAt(root, p)))
      return `retype ${toPointer(p)}`
    case 'set-string':
      set(m.text)
      return `set ${toPointer(p)} = ${JSON.stringify(m.text)}`
    case 'set-number':
      set(m.number)
      return `set ${toPointer(p)} = ${m.number}`
    case 'set-value':
      set(m.value)
      return `set ${toPointer(p)} = ${JSON.stringify(m.value)}`
    case 'corrupt-address': {
      const addrs = paths.filter((q) => isAddressLike(getAt(root, q)))
      if (addrs.length === 0) return 'no address'
      const q = addrs[m.pick % addrs.length]
      const old = getAt(root, q) as string
      const i = m.pick2 % old.length
      const {parent: ap, key: ak} = parentOf(root, q)
      ;(ap as Record<string | number, Json>)[ak] = old.slice(0, i) + m.char + old.slice(i + 1)
      return `corrupt ${toPointer(q)}: ${old} -> ${(ap as Record<string | number, Json>)[ak] as string}`
    }
    case 'unknown-key': {
      const objects = [[], ...paths].filter((q) => {
        const v = getAt(root, q)
        return v !== null && typeof v === 'object' && !Array.isArray(v)
      })
      const q = objects[m.pick % objects.length]
      ;(getAt(root, q) as {[k: string]: Json})[m.key] = m.value
      return `insert ${toPointer([...q, m.key])}`
    }
    default:
      throw new Error(`unknown mutation ${m.kind as string}`)
  }
}

// ---------------------------------------------------------------------------------------------
// The invariant

/**
 * Checks the loader's contract on one input. With `columnsInLine`, every position must also lie
 * inside the text (true for well-formed YAML; after some syntax errors the yaml package's line
 * counter misses newlines, so raw-text fuzzing only checks the contract itself).
 */
function checkResult(text: string, run: () => ReturnType<typeof loadConfigText>, columnsInLine: boolean): Problem[] {
  let result: ReturnType<typeof loadConfigText>
  try {
    result = run()
  } catch (e) {
    throw new Error(`loadConfigText threw ${(e as Error).stack}\n--- input ---\n${text}`)
  }
  const errors = result.problems.filter((p) => p.severity === 'error')
  const lines = text.split('\n')
  const bad = (why: string, p?: Problem) => new Error(`${why}${p ? `: ${JSON.stringify(p)}` : ''}\n--- input ---\n${text}`)
  if (result.config !== undefined && errors.length > 0) throw bad('a config was returned despite errors', errors[0])
  if (result.config === undefined && errors.length === 0) throw bad('no config and no error')
  for (const p of result.problems) {
    if (!Number.isInteger(p.line) || p.line < 1 || p.line > lines.length + 1) throw bad('line out of the file', p)
    if (!Number.isInteger(p.column) || p.column < 1) throw bad('column below 1', p)
    if (columnsInLine && p.column > (lines[p.line - 1]?.length ?? 0) + 1) throw bad('column out of the line', p)
    if (typeof p.message !== 'string' || p.message.trim() === '') throw bad('empty message', p)
    if (!(p.pointer === '' || p.pointer.startsWith('/'))) throw bad('pointer is not a JSON pointer', p)
    if (!/^[a-z]+(\.[a-z0-9-]+)+$/.test(p.rule)) throw bad('rule id malformed', p)
  }
  result.problems.forEach((p, i) => {
    const prev = result.problems[i - 1]
    if (prev && (prev.line > p.line || (prev.line === p.line && prev.column > p.column))) throw bad('problems are not sorted by position', p)
  })
  return errors
}

const load = (text: string) => checkResult(text, () => loadConfigText(text, 'fuzz.yaml', {localChecks: false}), true)
const loadRaw = (text: string) => checkResult(text, () => loadConfigText(text, 'fuzz.yaml', {localChecks: false}), false)

// ---------------------------------------------------------------------------------------------

describe('mutated examples (2,000 runs)', () => {
  let runs = 0
  let invalid = 0
  const rulesSeen = new Set<string>()

  const exampleArb = fc.oneof({arbitrary: fc.constantFrom('three-node' as const, 'samba-nfs' as const, 'lvs' as const), weight: 79}, {arbitrary: fc.constant('large-64-nodes' as const), weight: 1})

  it.each([
    ['block style', 1200, false],
    ['flow style', 800, true],
  ] as const)('%s: never throws; valid, or located errors (%d runs)', (_style, numRuns, flow) => {
    fc.assert(
      fc.property(exampleArb, fc.array(mutationArb, {minLength: 1, maxLength: 3}), (example, mutations) => {
        const doc = structuredClone(docs[example])
        const done = mutations.map((m) => mutate(doc, m))
        const text = stringify(doc, flow ? {collectionStyle: 'flow'} : undefined)
        let errors: Problem[]
        try {
          errors = load(text)
        } catch (e) {
          throw new Error(`${example} after ${done.join('; ')}: ${(e as Error).message}`)
        }
        runs++
        if (errors.length > 0) invalid++
        for (const e of errors) rulesSeen.add(e.rule)
      }),
      {numRuns},
    )
  })

  it('ran 2,000 times and reached a broad range of rules', () => {
    expect(runs).toBe(2000)
    // Most random mutations break something; some are harmless (e.g. a duplicated database).
    expect(invalid).toBeGreaterThan(1000)
    expect(invalid).toBeLessThan(2000)
    expect(rulesSeen.size).toBeGreaterThanOrEqual(12)
    expect([...rulesSeen].some((r) => r.startsWith('schema.format.'))).toBe(true)
    expect([...rulesSeen].some((r) => !r.startsWith('schema.') && !r.startsWith('yaml.'))).toBe(true)
  })

  it('the unmutated examples round-trip through stringify unchanged in meaning', () => {
    for (const n of EXAMPLES) {
      const a = loadConfigText(texts[n], n, {localChecks: false}).config
      const b = loadConfigText(stringify(docs[n]), n, {localChecks: false}).config
      expect(a).toBeDefined()
      expect(b).toEqual(a)
    }
  })
})

describe('targeted mutations', () => {
  it('an unknown key anywhere is reported at that key, with its pointer', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('three-node' as const, 'samba-nfs' as const, 'lvs' as const),
        fc.nat(),
        fc.stringMatching(/^[a-z][a-zA-Z]{2,10}$/),
        (example, pick, key) => {
          const doc = structuredClone(docs[example])
          const objects = [[], ...allPaths(doc)].filter((q) => {
            const v = getAt(doc, q)
            return v !== null && typeof v === 'object' && !Array.isArray(v)
          })
          const q = objects[pick % objects.length]
          const target = getAt(doc, q) as {[k: string]: Json}
          fc.pre(!(key in target))
          target[key] = 'x'
          const text = stringify(doc)
          const errors = load(text)
          const ptr = toPointer([...q, key])
          const hit = errors.find((e) => e.rule === 'schema.unknown-key' && e.pointer === ptr)
          if (!hit) throw new Error(`no unknown-key error at ${ptr}: ${JSON.stringify(errors)}\n${text}`)
          // The position names the key itself.
          expect(text.split('\n')[hit.line - 1].slice(hit.column - 1).startsWith(key)).toBe(true)
          expect(hit.message).toContain(`"${key}"`)
        },
      ),
      {numRuns: 200},
    )
  })

  it('a corrupted node address is either still an address or a located format error', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.constantFrom('a', 'x', '/', ' ', '', '%', '256', '::', '..'), (pick, pos, ch) => {
        const doc = structuredClone(docs['three-node']) as {spec: {nodes: {address: string}[]}}
        const node = doc.spec.nodes[pick % doc.spec.nodes.length]
        const i = pos % node.address.length
        node.address = node.address.slice(0, i) + ch + node.address.slice(i + 1)
        const text = stringify(doc)
        const errors = load(text)
        const ptr = `/spec/nodes/${pick % doc.spec.nodes.length}/address`
        const format = errors.find((e) => e.pointer === ptr && e.rule === 'schema.format.ip')
        if (format) {
          expect(text.split('\n')[format.line - 1].slice(format.column - 1)).toContain(node.address)
        } else {
          // Still well-formed: the only possible complaints are about it clashing or the NATS URLs.
          expect(errors.every((e) => e.pointer.startsWith('/spec/nodes/') || e.pointer.startsWith('/spec/publicAddresses/'))).toBe(true)
        }
      }),
      {numRuns: 300},
    )
  })
})

describe('random text (never throws)', () => {
  it('arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({maxLength: 200}), (text) => {
        loadRaw(text)
      }),
      {numRuns: 300},
    )
  })

  it('arbitrary full-Unicode strings', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary', maxLength: 200}), (text) => {
        loadRaw(text)
      }),
      {numRuns: 300},
    )
  })

  const token = fc.constantFrom('- ', ': ', ':', '{', '}', '[', ']', ',', '&a ', '*a', '&b ', '*b', '---\n', '...\n', '\n', '  ', '\t', 'key', 'spec', 'nodes', 'pnn', '0', '10.0.0.1', '!!str ', '!!map ', '!x ', '? ', '|\n', '>\n', '"', "'", '#', '%YAML 1.1\n', '<<: ', '~', 'null')

  it('YAML-looking token soup', () => {
    fc.assert(
      fc.property(fc.array(token, {maxLength: 60}), (tokens) => {
        loadRaw(tokens.join(''))
      }),
      {numRuns: 400},
    )
  })

  it('examples with random characters spliced in', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('three-node' as const, 'samba-nfs' as const, 'lvs' as const),
        fc.array(fc.tuple(fc.nat(), fc.nat({max: 3}), fc.string({maxLength: 3})), {minLength: 1, maxLength: 4}),
        (example, edits) => {
          let text = texts[example]
          for (const [pos, cut, insert] of edits) {
            const i = pos % (text.length + 1)
            text = text.slice(0, i) + insert + text.slice(i + cut)
          }
          loadRaw(text)
        },
      ),
      {numRuns: 300},
    )
  })
})
