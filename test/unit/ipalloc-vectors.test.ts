// Every CTDB vector (shared/vectors/ipalloc and ipalloc-random) must give CTDB's exact answer,
// order included.
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {allocate, parseProblem} from '../../src/cluster/ipalloc/index.js'

const VECTORS = path.resolve(process.cwd(), '../shared/vectors')

function vectorFiles(dir: string): string[] {
  const full = path.join(VECTORS, dir)
  if (!existsSync(full)) {
    throw new Error(`test vectors not found: ${full} (expected ../shared/vectors relative to the repository root; run jest from the repository root)`)
  }
  return readdirSync(full)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(full, f))
}

for (const [dir, count] of [
  ['ipalloc', 52],
  ['ipalloc-random', 150],
] as const) {
  describe(`vectors/${dir}`, () => {
    const files = vectorFiles(dir)

    test(`has the ${count} vectors`, () => {
      expect(files.length).toBe(count)
    })

    test.each(files.map((f) => [path.basename(f), f]))('%s', (_name, file) => {
      const json = JSON.parse(readFileSync(file, 'utf8')) as {expected: [string, number][]}
      expect(allocate(parseProblem(json))).toEqual(json.expected)
    })
  })
}
