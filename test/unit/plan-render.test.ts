// Golden tests of the human and JSON renderings of a plan (test/fixtures/plan/*.txt, *.json,
// compared exactly; UPDATE_GOLDEN=1 rewrites them), the JSON schema and the color rules.
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {Ajv2020} from 'ajv/dist/2020.js'
import {unifiedDiff} from '../../src/cluster/plan/diff.js'
import {buildPlan, renderPlanJson, type ConfigSource, type PlanDocument} from '../../src/cluster/plan/document.js'
import {chalkFor, formatValue, PLAIN, renderPlan} from '../../src/cluster/plan/render.js'
import {configFromText, parseAgainst, PlanInputError} from '../../src/cli/plan-sources.js'
import type {ClusterState} from '../../src/cluster/state.js'
import {BASE_YAML, variantText} from './plan-helpers.js'

const ROOT = process.cwd()
const FIXTURES = path.join(ROOT, 'test/fixtures/plan')
const UPDATE = process.env.UPDATE_GOLDEN === '1'

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8')
const source = (file: string, text = read(file)): ConfigSource => configFromText(text, file)

function golden(name: string, actual: string): void {
  const file = path.join(FIXTURES, name)
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`missing golden file ${file}: run with UPDATE_GOLDEN=1 to create it`)
    mkdirSync(FIXTURES, {recursive: true})
    writeFileSync(file, actual)
  }
  expect(actual).toBe(readFileSync(file, 'utf8'))
}

const STATE: ClusterState = JSON.parse(read('test/fixtures/plan/state.json')) as ClusterState

const EVERYTHING = variantText((d) => {
  d.spec.nats.servers.push('nats://10.0.0.3:4222')
  d.spec.nodes[0].capabilities = {lmaster: false}
  d.spec.nodes[2].deleted = true
  delete d.spec.nodes[2].capabilities
  d.spec.nodes.push({pnn: 4, name: 'fs5', address: '10.0.0.5'})
  d.spec.clusterLock = {type: 'nats-kv', ttl: '5s'}
  d.spec.publicAddresses[1].interfaces = ['eth2']
  d.spec.publicAddresses[1].nodes = ['fs1', 'fs5']
  d.spec.publicAddresses.splice(2, 1)
  d.spec.publicAddresses.push({address: '192.168.1.13/24', interfaces: ['eth1']}, {address: '2001:db8:1::13/64', interfaces: ['eth1']})
  d.spec.ipAllocation = {algorithm: 'lcp2', failback: false}
  d.spec.natgw[0].nodes = ['fs2', 'fs5']
  d.spec.lvs = []
  d.spec.databases.push({name: 'registry.tdb', kind: 'replicated'})
  d.spec.services[0].monitor.interval = '30s'
  d.spec.services.pop()
  d.spec.services.push({name: 'ftp', start: ['/usr/bin/systemctl', 'start', 'vsftpd'], stop: ['/usr/bin/systemctl', 'stop', 'vsftpd']})
  delete d.spec.eventScripts
  d.spec.tunables = {keepaliveInterval: '500ms', keepaliveLimit: 4, banPeriod: '10m'}
})

const UNSAFE = variantText((d) => {
  d.metadata.name = 'fs-renamed'
  d.spec.nodes[1].pnn = 7
  d.spec.nodes[2].address = '10.0.0.33'
  d.spec.nodes.pop()
  d.spec.databases[1].kind = 'replicated'
})

interface Case {
  name: string
  doc: () => PlanDocument
}

const CASES: Case[] = [
  {
    name: 'change',
    doc: () => buildPlan({base: source('examples/change/before.yaml'), next: source('examples/change/after.yaml')}),
  },
  {
    name: 'change-state',
    doc: () => buildPlan({
      base: source('examples/change/before.yaml'),
      next: source('examples/change/after.yaml'),
      state: {source: 'test/fixtures/plan/state.json', state: STATE},
    }),
  },
  {
    name: 'change-diff',
    doc: () => {
      const [base, next] = [source('examples/change/before.yaml'), source('examples/change/after.yaml')]
      return buildPlan({base, next, diff: unifiedDiff(base, next)})
    },
  },
  {name: 'empty', doc: () => buildPlan({base: null, next: source('examples/three-node.yaml')})},
  {name: 'everything', doc: () => buildPlan({base: source('base.yaml', BASE_YAML), next: source('everything.yaml', EVERYTHING)})},
  {name: 'unsafe', doc: () => buildPlan({base: source('base.yaml', BASE_YAML), next: source('unsafe.yaml', UNSAFE)})},
  {name: 'nochange', doc: () => buildPlan({base: source('examples/samba-nfs.yaml'), next: source('examples/samba-nfs.yaml')})},
]

const schema = JSON.parse(read('schemas/plan.schema.json')) as Record<string, unknown>
const validate = new Ajv2020({allErrors: true, strict: true}).compile(schema)

describe.each(CASES)('$name', ({name, doc}) => {
  test('human rendering (no color)', () => golden(`${name}.txt`, renderPlan(doc(), PLAIN)))
  test('JSON rendering', () => golden(`${name}.json`, renderPlanJson(doc())))
  test('the JSON document matches schemas/plan.schema.json', () => {
    const ok = validate(JSON.parse(renderPlanJson(doc())))
    expect(validate.errors ?? []).toEqual([])
    expect(ok).toBe(true)
  })
  test('plain rendering has no escape codes', () => {
    expect(renderPlan(doc(), PLAIN)).not.toContain('\u001b')
  })
})

describe('plan document', () => {
  test('hashes are the sha256 of the texts; the new text is included in full', () => {
    const d = CASES[0].doc()
    expect(d.config.yaml).toBe(read('examples/change/after.yaml'))
    expect(d.config.sha256).toBe(createHash('sha256').update(read('examples/change/after.yaml')).digest('hex'))
    expect(d.base?.sha256).toBe(createHash('sha256').update(read('examples/change/before.yaml')).digest('hex'))
  })

  test('the last line is the summary, or the no-change sentence', () => {
    const last = (d: PlanDocument) => renderPlan(d).trimEnd().split('\n').pop()
    expect(last(CASES[0].doc())).toBe('Plan: 3 to add, 1 to change, 0 to remove.')
    expect(last(CASES[6].doc())).toBe('No changes. The cluster matches the configuration.')
    expect(CASES[6].doc().hasChanges).toBe(false)
  })
})

describe('colors', () => {
  const doc = () => CASES[0].doc()
  const base = {env: {}, isTTY: true, detected: 1 as const}

  test('a terminal gets colors', () => {
    expect(renderPlan(doc(), chalkFor(base))).toContain('\u001b[32m+')
  })

  test('--no-color, NO_COLOR and a non-terminal get none', () => {
    for (const ctx of [{...base, flag: false}, {...base, env: {NO_COLOR: '1'}}, {...base, isTTY: false}, {...base, detected: 0 as const}]) {
      expect(renderPlan(doc(), chalkFor(ctx))).toBe(renderPlan(doc(), PLAIN))
    }
  })

  test('an empty NO_COLOR is ignored; --color forces colors', () => {
    expect(chalkFor({...base, env: {NO_COLOR: ''}}).level).toBe(1)
    expect(chalkFor({...base, isTTY: false, detected: 0, flag: true}).level).toBe(1)
    expect(chalkFor({...base, detected: 3}).level).toBe(3)
  })
})

test('values are written as in the YAML file', () => {
  expect(formatValue(['fs1', {node: 'fs3', followerOnly: true}])).toBe('[fs1, {node: fs3, followerOnly: true}]')
  expect(formatValue(null)).toBe('(none)')
  expect(formatValue('')).toBe('""')
  expect(formatValue('a, b')).toBe('"a, b"')
  expect(formatValue('-x')).toBe('"-x"')
  expect(formatValue('/usr/bin/smbcontrol')).toBe('/usr/bin/smbcontrol')
  expect(formatValue(15)).toBe('15')
})

describe('--against', () => {
  test('a file or git:REV[:PATH]', () => {
    expect(parseAgainst('old.yaml')).toEqual({type: 'file', file: 'old.yaml'})
    expect(parseAgainst('git:HEAD')).toEqual({type: 'git', rev: 'HEAD'})
    expect(parseAgainst('git:origin/main:clusters/prod.yaml')).toEqual({type: 'git', rev: 'origin/main', path: 'clusters/prod.yaml'})
    expect(parseAgainst('git:HEAD~2:a:b.yaml')).toEqual({type: 'git', rev: 'HEAD~2', path: 'a:b.yaml'})
  })

  test('an empty revision or path is an error', () => {
    expect(() => parseAgainst('git:')).toThrow(PlanInputError)
    expect(() => parseAgainst('git::x.yaml')).toThrow('give a revision')
    expect(() => parseAgainst('git:HEAD:')).toThrow('path after the revision is empty')
  })
})

describe('--diff', () => {
  test('identical texts give no diff; an empty base diffs against /dev/null', () => {
    const text = read('examples/three-node.yaml')
    expect(unifiedDiff({source: 'a', text}, {source: 'b', text})).toBe('')
    const created = unifiedDiff(null, {source: 'b.yaml', text})
    expect(created).toContain('--- /dev/null\n+++ b.yaml\n')
    expect(created).toContain('+apiVersion: ctdbctl/v1\n')
  })
})
