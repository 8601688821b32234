// examples/pipeline: the CI script in `mr` mode in a real temporary Git repository (through the
// built CLI: npm run build first), and the GitHub Actions / GitLab CI files that call it.
import {execFile, execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseDocument} from 'yaml'
import {BIN, REPO_ROOT, requireBuilt} from '../helpers/cli.js'

const PIPELINE = path.join(REPO_ROOT, 'examples/pipeline')
const SCRIPT = path.join(PIPELINE, 'ctdbctl-pipeline.sh')
const BEFORE = readFileSync(path.join(REPO_ROOT, 'examples/change/before.yaml'), 'utf8')
const AFTER = readFileSync(path.join(REPO_ROOT, 'examples/change/after.yaml'), 'utf8')

let tmp = ''
let repo = ''
let shimDir = ''

function git(...args: string[]): string {
  return execFileSync('git', args, {cwd: repo, encoding: 'utf8', env: {...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: tmp}})
}

/** Commits `files` (path → text) on the current branch. */
function commit(message: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(repo, file), text)
  git('add', '--', ...Object.keys(files))
  git('commit', '--quiet', '-m', message)
}

interface Run {
  code: number
  out: string
}

/** `sh ctdbctl-pipeline.sh ARGS` in the repository; stdout and stderr together, in order. */
function pipeline(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'sh',
      ['-c', 'exec sh "$0" "$@" 2>&1', SCRIPT, ...args],
      {
        cwd: repo,
        encoding: 'utf8',
        timeout: 60_000,
        // No CI variables from the environment running the tests (a GitHub runner's
        // GITHUB_STEP_SUMMARY would receive the test's summaries).
        env: {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, GIT_CONFIG_NOSYSTEM: '1', NO_COLOR: '1', ...env},
      },
      (error, stdout) => {
        if (error && typeof error.code !== 'number') reject(error)
        else resolve({code: error ? (error.code as number) : 0, out: stdout})
      },
    )
    child.stdin?.end()
  })
}

/** The built CLI through $CTDBCTL (split on blanks by the script). */
const viaEnv = (base: string) => ({CTDBCTL: `${process.execPath} ${BIN}`, CTDBCTL_BASE: base})

beforeAll(() => {
  requireBuilt('dist/commands/plan.js')
  tmp = mkdtempSync(path.join(tmpdir(), 'ctdbctl-pipeline-'))
  repo = path.join(tmp, 'repo')
  mkdirSync(repo)
  // A `ctdbctl` command on PATH for the default CTDBCTL.
  shimDir = path.join(tmp, 'bin')
  mkdirSync(shimDir)
  writeFileSync(path.join(shimDir, 'ctdbctl'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`)
  chmodSync(path.join(shimDir, 'ctdbctl'), 0o755)

  git('init', '--quiet', '--initial-branch=main')
  git('config', 'user.email', 'ops@example.invalid')
  git('config', 'user.name', 'Pipeline Test')
  git('config', 'commit.gpgsign', 'false')
  commit('fs-prod as deployed', {'cluster.yaml': BEFORE, 'README.md': 'Cluster files.\n'})
  commit('document the cluster', {'README.md': 'Cluster files of fs-prod.\n'})
})

afterAll(() => {
  if (tmp !== '') rmSync(tmp, {recursive: true, force: true})
})

/** A branch off main with one commit; the script runs on it. */
function branch(name: string, message: string, files: Record<string, string>): void {
  git('checkout', '--quiet', 'main')
  git('checkout', '--quiet', '-b', name)
  commit(message, files)
}

describe('ctdbctl-pipeline.sh mr', () => {
  test('no change to the cluster file: exit 0, "no changes" (ctdbctl found on PATH)', async () => {
    branch('docs-only', 'reword the README', {'README.md': 'The cluster files of fs-prod.\n'})
    const r = await pipeline(['mr'], {PATH: `${shimDir}:${process.env.PATH}`, CTDBCTL_BASE: 'main'})
    expect(r.out).toContain('==> ctdbctl validate cluster.yaml')
    expect(r.out).toContain('==> ctdbctl plan cluster.yaml --against git:main')
    expect(r.out).toContain('No changes. The cluster matches the configuration.')
    expect(r.out).toMatch(/^ {2}ok +cluster\.yaml: no changes$/m)
    expect(r.out.trimEnd().split('\n').pop()).toBe('Result: OK: 0 file(s) with changes, 1 unchanged.')
    expect(r.code).toBe(0)
  })

  test('a valid change: exit 0, the plan and its totals in the summary', async () => {
    branch('add-fs5', 'add fs5 and two addresses', {'cluster.yaml': AFTER})
    const r = await pipeline(['mr', 'cluster.yaml'], viaEnv('main'))
    expect(r.out).toContain('  + node fs5 (pnn 4)')
    expect(r.out).toContain('  + public address 192.168.1.14')
    expect(r.out).toMatch(/^ {2}changes +cluster\.yaml: 3 to add, 1 to change, 0 to remove$/m)
    expect(r.out.trimEnd().split('\n').pop()).toBe('Result: OK: 1 file(s) with changes, 0 unchanged.')
    expect(r.code).toBe(0)
    // The base is any revision: against the branch itself, nothing changes.
    const self = await pipeline(['mr'], viaEnv('HEAD'))
    expect(self.out).toMatch(/^ {2}ok +cluster\.yaml: no changes$/m)
    expect(self.code).toBe(0)
  })

  test('an invalid config: non-zero exit, the errors, nothing planned', async () => {
    branch('broken', 'break the cluster file', {'cluster.yaml': BEFORE.replace('  nodes:\n', '  nodez:\n')})
    const r = await pipeline(['mr'], viaEnv('main'))
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/cluster\.yaml:\d+:\d+: error: /)
    expect(r.out).not.toContain('==> ctdbctl plan')
    expect(r.out).toMatch(/^ {2}INVALID +cluster\.yaml: .+$/m)
    expect(r.out.trimEnd().split('\n').pop()).toBe('Result: FAILED: 1 of 1 file(s) invalid, unsafe or in error.')
  })

  test('an unsafe change: non-zero exit', async () => {
    branch('rename', 'rename the cluster', {'cluster.yaml': BEFORE.replace('name: fs-prod', 'name: fs-renamed')})
    const r = await pipeline(['mr'], viaEnv('main'))
    expect(r.code).toBe(1)
    expect(r.out).toContain('! cluster-renamed')
    expect(r.out).toMatch(/^ {2}UNSAFE +cluster\.yaml: 1 unsafe change, cannot be applied$/m)
  })

  test('a Markdown summary in CTDBCTL_SUMMARY_FILE', async () => {
    branch('add-fs5-again', 'add fs5', {'cluster.yaml': AFTER})
    const summary = path.join(tmp, 'summary.md')
    const r = await pipeline(['mr'], {...viaEnv('main'), CTDBCTL_SUMMARY_FILE: summary})
    expect(r.code).toBe(0)
    const md = readFileSync(summary, 'utf8')
    expect(md).toContain('### ctdbctl plan against `main`')
    expect(md).toContain('<summary>cluster.yaml: 3 to add, 1 to change, 0 to remove</summary>')
    expect(md).toContain('**OK**: 1 file(s) with changes, 0 unchanged.')
  })

  test('usage errors', async () => {
    expect((await pipeline([], viaEnv('main'))).code).toBe(64)
    expect((await pipeline(['deploy'], viaEnv('main'))).code).toBe(64)
    const noBase = await pipeline(['mr'], {CTDBCTL: viaEnv('').CTDBCTL})
    expect(noBase.code).toBe(1)
    expect(noBase.out).toContain('set CTDBCTL_BASE')
    const unknownBase = await pipeline(['mr'], viaEnv('no-such-branch'))
    expect(unknownBase.code).toBe(1)
    expect(unknownBase.out).toContain('base revision "no-such-branch" is not in the local Git history')
    const noCli = await pipeline(['mr'], {CTDBCTL: 'no-such-ctdbctl --x', CTDBCTL_BASE: 'main'})
    expect(noCli.code).toBe(1)
    expect(noCli.out).toContain('"no-such-ctdbctl" not found')
  })
})

describe('CI files', () => {
  function load(name: string): {text: string; doc: Record<string, unknown>} {
    const text = readFileSync(path.join(PIPELINE, name), 'utf8')
    const parsed = parseDocument(text)
    expect(parsed.errors.map((e) => e.message)).toEqual([])
    expect(parsed.warnings.map((e) => e.message)).toEqual([])
    return {text, doc: parsed.toJS() as Record<string, unknown>}
  }

  /** The `run`/`script` lines calling the script, in any job. */
  function calls(lines: unknown[]): string[] {
    return lines.filter((l): l is string => typeof l === 'string' && l.includes('ctdbctl-pipeline.sh'))
  }

  test('github-actions.yml: valid YAML; a pull-request job runs mr, a push job runs main', () => {
    const {doc} = load('github-actions.yml')
    const jobs = doc.jobs as Record<string, {if?: string; steps: {run?: string; env?: Record<string, string>}[]}>
    const runs = (job: string) => calls(jobs[job].steps.map((s) => s.run))
    expect(runs('plan')).toEqual(['sh ci/ctdbctl-pipeline.sh mr'])
    expect(jobs.plan.if).toContain('pull_request')
    expect(jobs.plan.steps.find((s) => s.run?.includes('ctdbctl-pipeline.sh'))?.env?.CTDBCTL_BASE).toBe('origin/${{ github.base_ref }}')
    expect(runs('apply')).toEqual(['sh ci/ctdbctl-pipeline.sh main'])
    expect(jobs.apply.if).toContain('push')
    expect(Object.keys(doc.on as object).sort()).toEqual(['pull_request', 'push'])
  })

  test('gitlab-ci.yml: valid YAML; a merge request job runs mr, a default branch job runs main', () => {
    const {doc} = load('gitlab-ci.yml')
    const job = (name: string) => doc[name] as {script: string[]; rules: {if: string}[]; extends?: string}
    expect(calls(job('ctdbctl-plan').script)).toEqual(['CTDBCTL_BASE="origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" sh ci/ctdbctl-pipeline.sh mr'])
    expect(job('ctdbctl-plan').rules[0].if).toContain('merge_request_event')
    expect(calls(job('ctdbctl-apply').script)).toEqual(['sh ci/ctdbctl-pipeline.sh main'])
    expect(job('ctdbctl-apply').rules[0].if).toBe('$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH')
    expect(job('ctdbctl-plan').extends).toBe('.ctdbctl')
    expect(doc['.ctdbctl']).toBeDefined()
  })

  test('the script is POSIX sh that parses, runs under set -eu and never uses eval', () => {
    const text = readFileSync(SCRIPT, 'utf8')
    expect(text.startsWith('#!/bin/sh\n')).toBe(true)
    expect(text).toMatch(/^set -eu$/m)
    expect(text).not.toMatch(/^\s*[^#\n]*\beval\b/m)
    execFileSync('sh', ['-n', SCRIPT])
  })
})
