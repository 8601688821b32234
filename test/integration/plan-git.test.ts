// `ctdbctl plan --against git:REV[:PATH]` against a real temporary Git repository, through the
// built CLI (npm run build first).
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {requireBuilt, runCli} from '../helpers/cli.js'

const ROOT = process.cwd()
const BEFORE = readFileSync(path.join(ROOT, 'examples/change/before.yaml'), 'utf8')
const AFTER = readFileSync(path.join(ROOT, 'examples/change/after.yaml'), 'utf8')

let repo = ''

function git(...args: string[]): string {
  return execFileSync('git', args, {cwd: repo, encoding: 'utf8', env: {...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: repo}})
}

/** `ctdbctl plan ARGS` in the repository (output is not a terminal: no color). */
async function plan(args: string[], cwd = repo) {
  const r = await runCli(['plan', ...args], {cwd, env: {NO_COLOR: ''}})
  return {status: r.code, stdout: r.stdout, stderr: r.stderr}
}

beforeAll(() => {
  requireBuilt('dist/commands/plan.js')
  repo = mkdtempSync(path.join(tmpdir(), 'ctdbctl-plan-git-'))
  git('init', '--quiet', '--initial-branch=main')
  git('config', 'user.email', 'test@example.invalid')
  git('config', 'user.name', 'plan test')
  git('config', 'commit.gpgsign', 'false')
  writeFileSync(path.join(repo, 'cluster.yaml'), BEFORE)
  mkdirSync(path.join(repo, 'clusters'))
  writeFileSync(path.join(repo, 'clusters/prod.yaml'), BEFORE)
  git('add', '.')
  git('commit', '--quiet', '-m', 'cluster as deployed')
})

afterAll(() => {
  if (repo !== '') rmSync(repo, {recursive: true, force: true})
})

describe('plan --against git:HEAD', () => {
  test('an unchanged file: no changes, exit 0 with --detailed-exitcode', async () => {
    const r = await plan(['cluster.yaml', '--against', 'git:HEAD', '--detailed-exitcode'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('Planning cluster.yaml against git:HEAD:cluster.yaml.')
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('No changes. The cluster matches the configuration.')
  })

  test('a changed file: the change is shown, exit 2 with --detailed-exitcode, 0 without', async () => {
    writeFileSync(path.join(repo, 'cluster.yaml'), AFTER)
    try {
      const r = await plan(['cluster.yaml', '--against', 'git:HEAD', '--detailed-exitcode'])
      expect(r.stderr).toBe('')
      expect(r.status).toBe(2)
      expect(r.stdout).toContain('  + node fs5 (pnn 4)')
      expect(r.stdout).toContain('  + public address 192.168.1.14')
      expect(r.stdout).toMatch(/~ natgw ng1 +fs1 -> fs2 +leader moves/)
      expect(r.stdout.trimEnd().split('\n').pop()).toBe('Plan: 3 to add, 1 to change, 0 to remove.')
      expect(r.stdout).not.toContain('\u001b')
      expect((await plan(['cluster.yaml', '--against', 'git:HEAD'])).status).toBe(0)
    } finally {
      writeFileSync(path.join(repo, 'cluster.yaml'), BEFORE)
    }
  })

  test('PATH defaults to the file path relative to the repository root, from any directory', async () => {
    writeFileSync(path.join(repo, 'clusters/prod.yaml'), AFTER)
    try {
      const fromSub = await plan(['prod.yaml', '--against', 'git:HEAD', '--detailed-exitcode', '--json'], path.join(repo, 'clusters'))
      expect(fromSub.status).toBe(2)
      const doc = JSON.parse(fromSub.stdout)
      expect(doc.base.source).toBe('git:HEAD:clusters/prod.yaml')
      expect(doc.summary).toEqual({add: 3, change: 1, remove: 0, unsafe: 0})
      const fromRoot = await plan(['clusters/prod.yaml', '--against', 'git:HEAD', '--detailed-exitcode'])
      expect(fromRoot.status).toBe(2)
    } finally {
      writeFileSync(path.join(repo, 'clusters/prod.yaml'), BEFORE)
    }
  })

  test('an explicit PATH at the revision', async () => {
    writeFileSync(path.join(repo, 'new.yaml'), AFTER)
    try {
      const r = await plan(['new.yaml', '--against', 'git:main:cluster.yaml', '--json'])
      expect(r.status).toBe(0)
      expect(JSON.parse(r.stdout).base.source).toBe('git:main:cluster.yaml')
      // The base hash is the hash of the committed text.
      expect(JSON.parse(r.stdout).base.sha256).toBe(createHash('sha256').update(BEFORE).digest('hex'))
    } finally {
      rmSync(path.join(repo, 'new.yaml'))
    }
  })

  test('a path that did not exist at the revision: planning against an empty cluster', async () => {
    writeFileSync(path.join(repo, 'fresh.yaml'), AFTER)
    try {
      const r = await plan(['fresh.yaml', '--against', 'git:HEAD', '--detailed-exitcode'])
      expect(r.stderr).toBe('')
      expect(r.status).toBe(2)
      expect(r.stdout).toContain('Planning fresh.yaml against an empty cluster.')
      expect(r.stdout).toContain('  + cluster fs-prod')
    } finally {
      rmSync(path.join(repo, 'fresh.yaml'))
    }
  })

  test('an unknown revision is an error (exit 1)', async () => {
    const r = await plan(['cluster.yaml', '--against', 'git:no-such-branch', '--detailed-exitcode'])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('Error: cannot read git:no-such-branch:cluster.yaml: unknown revision "no-such-branch"\n')
  })

  test('a file outside any repository is an error (exit 1)', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'ctdbctl-plan-nogit-'))
    try {
      writeFileSync(path.join(outside, 'cluster.yaml'), AFTER)
      const r = await plan([path.join(outside, 'cluster.yaml'), '--against', 'git:HEAD'], outside)
      expect(r.status).toBe(1)
      expect(r.stderr).toMatch(/^Error: cannot use --against git:HEAD: .*cluster\.yaml is not in a Git repository/)
    } finally {
      rmSync(outside, {recursive: true, force: true})
    }
  })
})
