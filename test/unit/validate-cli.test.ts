// `ctdbctl validate` as users run it: the built CLI in a child process (run `npm run build` first).
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Ajv2020} from 'ajv/dist/2020.js'
import {formatProblem, loadConfigText} from '../../src/config/index.js'
import {REPO_ROOT, requireBuilt, runCli} from '../helpers/cli.js'

const examples = readdirSync(path.join(REPO_ROOT, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => `examples/${f}`)
const INVALID = 'test/fixtures/invalid/72-natgw-ipv4-only.yaml' // three errors on three lines
const INVALID_SCHEMA = 'test/fixtures/invalid/51-several-schema-errors.yaml'
const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8')

const LINE = /^(.+):(\d+):(\d+): (error|warning): (.+) \(at (\/.*)\)$/
const SUMMARY = /^(\d+) files? checked: (\d+) valid, (\d+) invalid \((\d+) errors?, (\d+) warnings?\)$/

function outputLines(stdout: string): string[] {
  expect(stdout.endsWith('\n')).toBe(true)
  return stdout.slice(0, -1).split('\n')
}

let tmp: string
beforeAll(() => {
  requireBuilt('dist/commands/validate.js')
  tmp = mkdtempSync(path.join(tmpdir(), 'ctdbctl-validate-'))
})
afterAll(() => {
  if (tmp) rmSync(tmp, {recursive: true, force: true})
})

describe('ctdbctl validate', () => {
  it('exits 0 on every example and prints only the summary', async () => {
    expect(examples.length).toBeGreaterThanOrEqual(4)
    const r = await runCli(['validate', ...examples, '--no-local-checks'])
    expect(r).toEqual({code: 0, stdout: `${examples.length} files checked: ${examples.length} valid, 0 invalid (0 errors, 0 warnings)\n`, stderr: ''})
  })

  it('exits 1 on an invalid file: one located line per error, sorted by position, then the summary', async () => {
    const r = await runCli(['validate', INVALID, '--no-local-checks'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    const lines = outputLines(r.stdout)
    const problems = lines.slice(0, -1).map((l) => {
      const m = LINE.exec(l)
      if (!m) throw new Error(`not FILE:LINE:COL: error: MESSAGE (at /pointer): ${l}`)
      return {file: m[1], line: Number(m[2]), column: Number(m[3]), severity: m[4], message: m[5], pointer: m[6]}
    })
    expect(problems).toHaveLength(3)
    expect(problems.every((p) => p.file === INVALID && p.severity === 'error')).toBe(true)
    const positions = problems.map((p) => [p.line, p.column])
    expect(positions).toEqual([...positions].sort((a, b) => a[0] - b[0] || a[1] - b[1]))
    expect(problems.map((p) => p.pointer)).toEqual(['/spec/natgw/0/publicAddress', '/spec/natgw/0/defaultGateway', '/spec/natgw/0/staticRoutes/0'])
    expect(lines[lines.length - 1]).toBe('1 file checked: 0 valid, 1 invalid (3 errors, 0 warnings)')
    expect(SUMMARY.exec(lines[lines.length - 1])?.slice(1).map(Number)).toEqual([1, 0, 1, 3, 0])
    // Exactly what the library reports.
    const lib = loadConfigText(read(INVALID), INVALID, {localChecks: false})
    expect(lines.slice(0, -1)).toEqual(lib.problems.map((p) => formatProblem(INVALID, p)))
  })

  it('sorts schema errors by position too', async () => {
    const r = await runCli(['validate', INVALID_SCHEMA])
    expect(r.code).toBe(1)
    const lines = outputLines(r.stdout)
    expect(lines).toEqual([
      `${INVALID_SCHEMA}:13:16: error: "10.0.0.300" is not valid: expected an IPv4 address (a.b.c.d) or IPv6 address without prefix length (at /spec/nodes/0/address)`,
      `${INVALID_SCHEMA}:14:12: error: expected an integer, found the string "x" (at /spec/nodes/1/pnn)`,
      '1 file checked: 0 valid, 1 invalid (2 errors, 0 warnings)',
    ])
  })

  it('writes "/" as the pointer of a whole-document problem', async () => {
    const r = await runCli(['validate', 'test/fixtures/invalid/04-yaml-empty.yaml'])
    expect(r.code).toBe(1)
    expect(outputLines(r.stdout)[0]).toMatch(/^test\/fixtures\/invalid\/04-yaml-empty\.yaml:1:1: error: file is empty: .* \(at \/\)$/)
  })

  it('exits 2 on a missing file, with a sentence naming it', async () => {
    const r = await runCli(['validate', 'no/such/cluster.yaml'])
    expect(r.code).toBe(2)
    expect(outputLines(r.stdout)).toEqual(['no/such/cluster.yaml: error: no such file', '1 file checked: 0 valid, 1 invalid (0 errors, 0 warnings)'])
  })

  it('exits 2 on a directory', async () => {
    const r = await runCli(['validate', 'examples'])
    expect(r.code).toBe(2)
    expect(r.stdout).toContain('examples: error: is a directory, not a cluster file')
  })

  it('exits 2 without a file argument, explaining the usage on stderr', async () => {
    const r = await runCli(['validate'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/Missing 1 required arg/)
    expect(r.stderr).toMatch(/validate FILE\.\.\./)
  })

  it('checks several files in one call: one valid, one invalid → 1, both reported in argument order', async () => {
    const r = await runCli(['validate', INVALID, 'examples/three-node.yaml', '--no-local-checks'])
    expect(r.code).toBe(1)
    const lines = outputLines(r.stdout)
    expect(lines.filter((l) => l.startsWith(`${INVALID}:`))).toHaveLength(3)
    expect(lines[lines.length - 1]).toBe('2 files checked: 1 valid, 1 invalid (3 errors, 0 warnings)')
    const reversed = await runCli(['validate', 'examples/three-node.yaml', INVALID, '--no-local-checks'])
    expect(reversed.code).toBe(1)
    expect(reversed.stdout).toBe(r.stdout) // the valid file prints nothing but its share of the summary
  })

  it('a missing file wins over an invalid one: exit 2, every file still reported', async () => {
    const r = await runCli(['validate', INVALID, 'missing.yaml', 'examples/lvs.yaml', '--no-local-checks'])
    expect(r.code).toBe(2)
    const lines = outputLines(r.stdout)
    expect(lines.filter((l) => l.startsWith(`${INVALID}:`))).toHaveLength(3)
    expect(lines).toContain('missing.yaml: error: no such file')
    expect(lines[lines.length - 1]).toBe('3 files checked: 1 valid, 2 invalid (3 errors, 0 warnings)')
  })

  it('warnings are printed but keep the exit status 0; --no-local-checks silences them', async () => {
    const file = path.join(tmp, 'helper.yaml')
    writeFileSync(file, read('examples/lvs.yaml').replace('/usr/libexec/ctdb/ctdb_etcd_lock', '/nonexistent/ctdbctl-test/lock-helper'))
    const r = await runCli(['validate', file])
    expect(r.code).toBe(0)
    const lines = outputLines(r.stdout)
    expect(lines).toContainEqual(expect.stringMatching(/:17:15: warning: \/nonexistent\/ctdbctl-test\/lock-helper does not exist on this machine .*\(at \/spec\/clusterLock\/command\/0\)$/))
    expect(lines[lines.length - 1]).toMatch(/^1 file checked: 1 valid, 0 invalid \(0 errors, [1-9]\d* warnings?\)$/)
    const quiet = await runCli(['validate', file, '--no-local-checks'])
    expect(quiet).toEqual({code: 0, stdout: '1 file checked: 1 valid, 0 invalid (0 errors, 0 warnings)\n', stderr: ''})
  })

  it('reads standard input for "-", named <stdin>', async () => {
    const ok = await runCli(['validate', '-', '--no-local-checks'], {input: read('examples/samba-nfs.yaml')})
    expect(ok.code).toBe(0)
    expect(outputLines(ok.stdout).pop()).toBe('1 file checked: 1 valid, 0 invalid (0 errors, 0 warnings)')
    const bad = await runCli(['validate', '-', '--no-local-checks'], {input: read(INVALID)})
    expect(bad.code).toBe(1)
    const lines = outputLines(bad.stdout)
    expect(lines.slice(0, -1)).toHaveLength(3)
    expect(lines.slice(0, -1).every((l) => l.startsWith('<stdin>:'))).toBe(true)
    expect(lines[0]).toMatch(/^<stdin>:\d+:\d+: error: the NAT gateway works with IPv4 only/)
  })

  it('reads standard input alongside files', async () => {
    const r = await runCli(['validate', 'examples/three-node.yaml', '-', '--no-local-checks'], {input: 'apiVersion: ctdbctl/v1\n'})
    expect(r.code).toBe(1)
    const lines = outputLines(r.stdout)
    expect(lines).toContain('<stdin>:1:1: error: missing required key "kind" (at /)')
    expect(lines[lines.length - 1]).toBe('2 files checked: 1 valid, 1 invalid (3 errors, 0 warnings)')
  })
})

describe('ctdbctl validate --json', () => {
  const schema = JSON.parse(read('schemas/validate-report.schema.json')) as object
  const validateReport = new Ajv2020({allErrors: true, strict: true}).compile(schema)

  interface Report {
    version: number
    valid: boolean
    files: {file: string; valid: boolean; readError?: string; problems: {severity: string; rule: string; message: string; pointer: string; line: number; column: number}[]}[]
    summary: {files: number; valid: number; invalid: number; errors: number; warnings: number}
  }

  const parseReport = (stdout: string): Report => {
    const report = JSON.parse(stdout) as Report
    if (!validateReport(report)) throw new Error(`report does not match schemas/validate-report.schema.json: ${JSON.stringify(validateReport.errors)}`)
    return report
  }

  it('the report schema rejects what it should (so the check below means something)', () => {
    expect(validateReport({version: 1, valid: true, files: [], summary: {files: 0, valid: 0, invalid: 0, errors: 0, warnings: 0}})).toBe(true)
    expect(validateReport({version: 2, valid: true, files: [], summary: {files: 0, valid: 0, invalid: 0, errors: 0, warnings: 0}})).toBe(false)
    expect(validateReport({version: 1, valid: true, files: [{file: 'x', valid: true, problems: [{severity: 'error', rule: 'r', message: 'm', pointer: '', line: 0, column: 1}]}], summary: {files: 1, valid: 1, invalid: 0, errors: 1, warnings: 0}})).toBe(false)
  })

  it('valid examples, an invalid file and a missing file: schema-valid report, exit 2', async () => {
    const args = ['validate', ...examples, INVALID, 'missing.yaml', '--json', '--no-local-checks']
    const r = await runCli(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('')
    const report = parseReport(r.stdout)
    expect(report.version).toBe(1)
    expect(report.valid).toBe(false)
    expect(report.files.map((f) => [f.file, f.valid])).toEqual([...examples.map((f) => [f, true]), [INVALID, false], ['missing.yaml', false]])
    expect(report.files[examples.length + 1]).toEqual({file: 'missing.yaml', valid: false, readError: 'no such file', problems: []})
    expect(report.files[examples.length].problems).toEqual(loadConfigText(read(INVALID), INVALID, {localChecks: false}).problems)
    expect(report.summary).toEqual({files: examples.length + 2, valid: examples.length, invalid: 2, errors: 3, warnings: 0})
  })

  it('exit status follows the report: 0 valid, 1 invalid', async () => {
    const ok = await runCli(['validate', 'examples/three-node.yaml', '--json'])
    expect(ok.code).toBe(0)
    expect(parseReport(ok.stdout)).toEqual({
      version: 1,
      valid: true,
      files: [{file: 'examples/three-node.yaml', valid: true, problems: []}],
      summary: {files: 1, valid: 1, invalid: 0, errors: 0, warnings: 0},
    })
    const bad = await runCli(['validate', INVALID_SCHEMA, '--json'])
    expect(bad.code).toBe(1)
    const report = parseReport(bad.stdout)
    expect(report.valid).toBe(false)
    expect(report.files[0].problems.map((p) => `${p.line}:${p.column} ${p.rule} ${p.pointer}`)).toEqual(['13:16 schema.format.ip /spec/nodes/0/address', '14:12 schema.type /spec/nodes/1/pnn'])
  })

  it('is stable: the same input gives byte-identical output with a fixed key order', async () => {
    const args = ['validate', INVALID, 'examples/three-node.yaml', '--json', '--no-local-checks']
    const [a, b] = await Promise.all([runCli(args), runCli(args)])
    expect(a.stdout).toBe(b.stdout)
    const report = parseReport(a.stdout)
    expect(Object.keys(report)).toEqual(['version', 'valid', 'files', 'summary'])
    expect(Object.keys(report.files[0])).toEqual(['file', 'valid', 'problems'])
    expect(Object.keys(report.files[0].problems[0])).toEqual(['severity', 'rule', 'message', 'pointer', 'line', 'column'])
    expect(Object.keys(report.summary)).toEqual(['files', 'valid', 'invalid', 'errors', 'warnings'])
    // Pretty-printed JSON followed by a newline.
    expect(a.stdout).toBe(JSON.stringify(report, null, 2) + '\n')
  })

  it('stdin in JSON mode is named <stdin>', async () => {
    const r = await runCli(['validate', '-', '--json'], {input: ''})
    expect(r.code).toBe(1)
    const report = parseReport(r.stdout)
    expect(report.files).toEqual([{file: '<stdin>', valid: false, problems: [expect.objectContaining({rule: 'yaml.empty', line: 1, column: 1, pointer: ''})]}])
  })
})
