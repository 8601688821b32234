// `ctdbctl plan` end to end through the built CLI (npm run build first): flags, outputs, exit codes.
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {requireBuilt, runCli} from '../helpers/cli.js'

const ROOT = process.cwd()
const BEFORE = 'examples/change/before.yaml'
const AFTER = 'examples/change/after.yaml'

let dir = ''
beforeAll(() => {
  requireBuilt('dist/commands/plan.js')
  dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-plan-cli-'))
})
afterAll(() => {
  if (dir !== '') rmSync(dir, {recursive: true, force: true})
})

async function ctdbctl(args: string[], opts: {env?: Record<string, string>; input?: string} = {}) {
  const r = await runCli(['plan', ...args], {...opts, env: {NO_COLOR: '', ...opts.env}})
  return {status: r.code, stdout: r.stdout, stderr: r.stderr}
}

const fixture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/plan', name), 'utf8')

test('the human output is the golden one (not a terminal: no escape codes)', async () => {
  const r = await ctdbctl([AFTER, '--against', BEFORE])
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  expect(r.stdout).toBe(fixture('change.txt'))
})

test('--json prints the golden document; --state is used', async () => {
  const r = await ctdbctl([AFTER, '--against', BEFORE, '--state', 'test/fixtures/plan/state.json', '--json'])
  expect(r.status).toBe(0)
  expect(r.stdout).toBe(fixture('change-state.json'))
})

test('--diff adds the unified diff', async () => {
  const r = await ctdbctl([AFTER, '--against', BEFORE, '--diff'])
  expect(r.status).toBe(0)
  expect(r.stdout).toBe(fixture('change-diff.txt'))
})

test('--color forces escape codes; NO_COLOR and --no-color win', async () => {
  expect((await ctdbctl([AFTER, '--against', BEFORE, '--color'])).stdout).toContain('\u001b[')
  expect((await ctdbctl([AFTER, '--against', BEFORE, '--color', '--no-color'])).stdout).not.toContain('\u001b')
  expect((await ctdbctl([AFTER, '--against', BEFORE, '--color'], {env: {NO_COLOR: '1'}})).stdout).not.toContain('\u001b')
})

test('--detailed-exitcode: 2 with changes, 0 without', async () => {
  expect((await ctdbctl([AFTER, '--against', BEFORE, '--detailed-exitcode'])).status).toBe(2)
  expect((await ctdbctl([AFTER, '--against', AFTER, '--detailed-exitcode'])).status).toBe(0)
  expect((await ctdbctl([AFTER, '--detailed-exitcode'])).status).toBe(2)
})

test('without --against: an empty cluster, everything is an add', async () => {
  const r = await ctdbctl(['examples/three-node.yaml'])
  expect(r.status).toBe(0)
  expect(r.stdout).toBe(fixture('empty.txt'))
})

test('--out saves the JSON plan and still prints the human one', async () => {
  const out = path.join(dir, 'plan.json')
  const r = await ctdbctl([AFTER, '--against', BEFORE, '--out', out])
  expect(r.status).toBe(0)
  expect(r.stdout).toBe(fixture('change.txt'))
  expect(readFileSync(out, 'utf8')).toBe(fixture('change.json'))
})

test('standard input', async () => {
  const r = await ctdbctl(['-', '--against', BEFORE, '--json'], {input: readFileSync(path.join(ROOT, AFTER), 'utf8')})
  expect(r.status).toBe(0)
  expect(JSON.parse(r.stdout).config.source).toBe('<stdin>')
})

test('an invalid config: the located errors, exit 1', async () => {
  const bad = path.join(dir, 'bad.yaml')
  writeFileSync(bad, readFileSync(path.join(ROOT, AFTER), 'utf8').replace('{pnn: 4, name: fs5, address: 10.0.0.5}', '{pnn: 4, name: fs5, address: 10.0.0.5, colour: red}'))
  const r = await ctdbctl([bad, '--against', BEFORE, '--detailed-exitcode'])
  expect(r.status).toBe(1)
  expect(r.stdout).toBe('')
  expect(r.stderr).toMatch(new RegExp(`^Error: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid cluster file \\(1 error\\):\\n${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:16:\\d+: error: .*colour.* \\(at /spec/nodes/4.*\\)\\n$`))
})

test('an unsafe change: the plan is printed, exit 1, --out not written', async () => {
  const renamed = path.join(dir, 'renamed.yaml')
  writeFileSync(renamed, readFileSync(path.join(ROOT, AFTER), 'utf8').replace('name: fs-prod', 'name: fs-other'))
  const out = path.join(dir, 'unsafe-plan.json')
  const r = await ctdbctl([renamed, '--against', BEFORE, '--detailed-exitcode', '--out', out])
  expect(r.status).toBe(1)
  expect(r.stdout).toContain('  ! cluster-renamed')
  expect(r.stderr).toBe(`Error: the plan has 1 unsafe change (marked !) and cannot be applied; ${out} was not written\n`)
  expect(existsSync(out)).toBe(false)
})

test('missing files and a state of another cluster are errors', async () => {
  expect((await ctdbctl(['nope.yaml'])).stderr).toBe('Error: cannot read nope.yaml: no such file\n')
  expect((await ctdbctl([AFTER, '--against', 'nope.yaml'])).status).toBe(1)
  const other = path.join(dir, 'other-state.json')
  writeFileSync(other, JSON.stringify({cluster: 'fs-small', nodes: []}))
  const r = await ctdbctl([AFTER, '--against', BEFORE, '--state', other])
  expect(r.status).toBe(1)
  expect(r.stderr).toBe(`Error: ${other} is a snapshot of cluster "fs-small", not of "fs-prod"\n`)
})

test('docs/plan.md shows the real output of the example', async () => {
  const docs = readFileSync(path.join(ROOT, 'docs/plan.md'), 'utf8')
  const command = `$ ctdbctl plan ${AFTER} --against ${BEFORE} --no-color\n`
  const start = docs.indexOf(command)
  expect(start).toBeGreaterThan(0)
  const shown = docs.slice(start + command.length, docs.indexOf('```', start))
  const r = await ctdbctl([AFTER, '--against', BEFORE, '--no-color'])
  expect(shown).toBe(r.stdout)
})

test('usage errors exit 1, never 2 (which --detailed-exitcode uses for "changes")', async () => {
  const bogus = await ctdbctl([AFTER, '--bogus', '--detailed-exitcode'])
  expect(bogus.status).toBe(1)
  expect(bogus.stderr).toContain('Nonexistent flag: --bogus')
  expect((await ctdbctl(['--detailed-exitcode'])).status).toBe(1)
})
