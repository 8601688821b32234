// `ctdbctl mutex fcntl` against CTDB's own ctdb_mutex_fcntl_helper (Debian package ctdb), both
// directions, plus the recheck (file removed / replaced), the parent check and usage errors.
// Runs the built CLI: npm run build first.
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {requireBuilt} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'
import {CTDB_FCNTL_HELPER, Processes, alive, ours} from './mutex-util.js'

let dir: string
const procs = new Processes()

beforeAll(() => {
  requireBuilt('dist/commands/mutex/fcntl.js')
  if (!existsSync(CTDB_FCNTL_HELPER)) {
    throw new Error(`${CTDB_FCNTL_HELPER} is missing: install the Debian package "ctdb" (apt-get install ctdb) to run the interop tests`)
  }
  dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-mutex-fcntl-'))
})

afterEach(async () => {
  await procs.cleanup()
})

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const ctdb = (file: string, recheck = '5') => [CTDB_FCNTL_HELPER, file, recheck]
const ctdbctl = (file: string, recheck = '5', ...more: string[]) => ours('mutex', 'fcntl', file, recheck, ...more)

describe('interop with CTDB ctdb_mutex_fcntl_helper', () => {
  test("CTDB's helper holds → ours reports contention; after CTDB's release ours takes it", async () => {
    const file = path.join(dir, 'reclock-1')
    const theirs = await procs.lock('ctdb', ctdb(file))
    expect(theirs.result!.status).toBe('0')
    const mine = await procs.lock('ctdbctl', ctdbctl(file))
    expect(mine.result!.status).toBe('1')
    expect(mine.logs).toEqual([])
    await procs.release(theirs)
    const again = await procs.lock('ctdbctl-2', ctdbctl(file))
    expect(again.result!.status).toBe('0')
    expect(procs.overlaps()).toEqual([])
  })

  test("ours holds → CTDB's helper reports contention; after our release CTDB's takes it", async () => {
    const file = path.join(dir, 'reclock-2')
    const mine = await procs.lock('ctdbctl', ctdbctl(file))
    expect(mine.result!.status).toBe('0')
    expect((statSync(file).mode & 0o777).toString(8)).toMatch(/^[0-6]00$/) // created 0600 (minus umask)
    const theirs = await procs.lock('ctdb', ctdb(file))
    expect(theirs.result!.status).toBe('1')
    const pid = mine.mutex.pid!
    await procs.release(mine)
    expect(alive(pid)).toBe(false)
    const theirs2 = await procs.lock('ctdb-2', ctdb(file))
    expect(theirs2.result!.status).toBe('0')
  })

  test('two of ours exclude each other', async () => {
    const file = path.join(dir, 'reclock-3')
    expect((await procs.lock('a', ctdbctl(file))).result!.status).toBe('0')
    expect((await procs.lock('b', ctdbctl(file))).result!.status).toBe('1')
  })
})

describe('recheck', () => {
  test('lock file removed while held (RECHECK 1) → our helper exits with the message, ClusterMutex reports lost', async () => {
    const file = path.join(dir, 'reclock-removed')
    const mine = await procs.lock('ctdbctl', ctdbctl(file, '1'))
    expect(mine.result!.status).toBe('0')
    const lost = new Promise((resolve) => mine.mutex.once('lost', resolve))
    unlinkSync(file)
    const removedAt = Date.now()
    await lost
    expect(Date.now() - removedAt).toBeLessThan(3000)
    await waitFor('the message', () => (mine.logs.length ? true : undefined), 2000)
    expect(mine.logs).toContain(`ctdbctl mutex fcntl: lock lost - lock file "${file}" open failed (ret=2)`)
    await waitFor('helper reaped', () => (mine.mutex.exited ? true : undefined), 5000)
  })

  test('lock file replaced while held → "inode changed", lost; CTDB\'s helper can take the new file', async () => {
    const file = path.join(dir, 'reclock-replaced')
    const mine = await procs.lock('ctdbctl', ctdbctl(file, '1'))
    expect(mine.result!.status).toBe('0')
    const lost = new Promise((resolve) => mine.mutex.once('lost', resolve))
    writeFileSync(`${file}.new`, '')
    renameSync(`${file}.new`, file)
    await lost
    await waitFor('the message', () => (mine.logs.length ? true : undefined), 2000)
    expect(mine.logs).toContain(`ctdbctl mutex fcntl: lock lost - lock file "${file}" inode changed`)
    expect((await procs.lock('ctdb', ctdb(file))).result!.status).toBe('0')
  })

  test('RECHECK 0: removing the file goes unnoticed (as CTDB: split brain possible without rechecks)', async () => {
    const file = path.join(dir, 'reclock-norecheck')
    const first = await procs.lock('first', ctdbctl(file, '0'))
    expect(first.result!.status).toBe('0')
    unlinkSync(file)
    const second = await procs.lock('second', ctdb(file, '0'))
    expect(second.result!.status).toBe('0')
    expect(first.mutex.held).toBe(true)
  })
})

describe('parent and usage', () => {
  test('parent gone → the helper exits (lost) within the 5 s parent check', async () => {
    const file = path.join(dir, 'reclock-parent')
    // An intermediate process starts our helper with our pipe as its stdout, then exits.
    const middle = spawn(
      process.execPath,
      ['-e', `const c = require('child_process').spawn(process.argv[1], process.argv.slice(2), {stdio: ['ignore', 'inherit', 'inherit']}); process.stderr.write('pid:' + c.pid + '\\n'); setTimeout(() => process.exit(0), 2000)`, ...ctdbctl(file, '0')],
      {stdio: ['ignore', 'pipe', 'pipe']},
    )
    let out = ''
    let err = ''
    middle.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    middle.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    const closed = new Promise<number>((resolve) => middle.stdout!.once('end', () => resolve(Date.now())))
    const grandchild = await waitFor('grandchild pid', () => /pid:(\d+)/.exec(err)?.[1], 10_000)
    procs.adopt(Number(grandchild), middle.pid)
    await waitFor("'0' from the grandchild", () => (out === '0' ? true : undefined), 10_000)
    const held = Date.now()
    // Ours still holds: CTDB's helper sees contention.
    expect((await procs.lock('ctdb', ctdb(file))).result!.status).toBe('1')
    const eof = await closed // all writers gone: the helper exited
    expect(eof - held).toBeLessThan(9000)
    expect(err).toContain('parent gone')
    expect((await procs.lock('ctdb-2', ctdb(file))).result!.status).toBe('0')
  })

  test.each([[[]], [['f', 'x']], [['f', '1', '2', '3']], [['f', '5', 'y']]])('usage error %j → CTDB usage text, no status (daemon sees 3)', async (args) => {
    const t = await procs.lock('usage', ours('mutex', 'fcntl', ...(args as string[])))
    expect(t.result).toMatchObject({status: '3', reason: expect.stringMatching(/without a status/)})
    expect(t.logs).toEqual(['Usage: ctdbctl mutex fcntl <file> [recheck_interval [ping_timeout]]'])
    await waitFor('helper reaped', () => (t.mutex.exited ? true : undefined), 5000)
  })

  test('unopenable file → message and 3', async () => {
    const t = await procs.lock('bad', ctdbctl(path.join(dir, 'no-such-dir', 'reclock')))
    expect(t.result!.status).toBe('3')
    expect(t.logs).toEqual([`ctdbctl mutex fcntl: Unable to open ${path.join(dir, 'no-such-dir', 'reclock')} - (No such file or directory)`])
  })
})
