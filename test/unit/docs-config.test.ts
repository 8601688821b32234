import {readFileSync} from 'node:fs'
import {clusterSchema} from '../../src/config/schema.js'
import {renderConfigReference, SEMANTIC_RULES} from '../../src/config/schema-docs.js'

describe('docs/config.md', () => {
  it('is exactly what the schema generates (run `npm run docs` after changing the schema)', () => {
    expect(readFileSync('docs/config.md', 'utf8')).toBe(renderConfigReference(clusterSchema()))
  })

  it('documents every key of the schema', () => {
    const doc = readFileSync('docs/config.md', 'utf8')
    const keys: string[] = []
    const walk = (s: Record<string, unknown>, path: string) => {
      const props = (s.properties ?? {}) as Record<string, Record<string, unknown>>
      for (const [k, child] of Object.entries(props)) {
        keys.push(`${path}${k}`)
        walk(child, `${path}${k}.`)
        if (child.items && (child.items as Record<string, unknown>).properties) walk(child.items as Record<string, unknown>, `${path}${k}[].`)
      }
    }
    walk(clusterSchema(), '')
    expect(keys.length).toBeGreaterThan(60)
    for (const k of keys) expect(doc).toContain(`| \`${k}\` |`)
  })

  it('lists every semantic rule id used by the validator, and no other', () => {
    const source = readFileSync('src/config/semantic.ts', 'utf8')
    const families = 'nodes|refs|addresses|natgw|lvs|lock|databases|services|tunables|nats|local'
    const used = new Set([...source.matchAll(new RegExp(`'((?:${families})\\.[a-z0-9-]+)'`, 'g'))].map((m) => m[1]))
    expect(used.size).toBeGreaterThan(30)
    const documented = new Set(SEMANTIC_RULES.map(([id]) => id))
    expect([...used].filter((id) => !documented.has(id))).toEqual([])
    expect([...documented].filter((id) => !used.has(id))).toEqual([])
  })
})
