// ClusterMutex (CTDB's helper protocol, daemon side) and LockKeeper against tiny helper programs
// written to a temporary directory: held, contention, garbage, silent exit, hang, loss, release.
import {jest} from '@jest/globals'
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {ClusterMutex, LockKeeper, helperArgv, lockKeeperFor, type ClusterMutexOptions, type LostInfo} from '../../src/daemon/mutex/cluster-mutex.js'
import {waitFor} from '../helpers/wait.js'

let dir: string
const mutexes: ClusterMutex[] = []
const keepers: LockKeeper[] = []
const pids = new Set<number>()

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Writes an executable Node script (with a shebang) and returns its path. */
function script(name: string, body: string): string {
  const file = path.join(dir, name)
  writeFileSync(file, `#!/usr/bin/env node\n${body}\n`)
  chmodSync(file, 0o755)
  return file
}

interface Logged {
  line: string
  source: string
}

function mutex(argv: string[], options: Partial<ClusterMutexOptions> = {}): {m: ClusterMutex; logs: Logged[]} {
  const logs: Logged[] = []
  const m = new ClusterMutex({argv, log: (line, info) => logs.push({line, source: info.source}), ...options})
  mutexes.push(m)
  return {m, logs}
}

async function locked(m: ClusterMutex) {
  const r = await m.lock()
  if (m.pid) pids.add(m.pid)
  return r
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-mutex-unit-'))
})

afterEach(async () => {
  await Promise.all(keepers.splice(0).map((k) => k.stop()))
  await Promise.all(mutexes.splice(0).map((m) => m.release()))
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
  pids.clear()
})

afterAll(() => {
  rmSync(dir, {recursive: true, force: true})
})

describe('ClusterMutex', () => {
  test("'0' is held until release; release kills the helper and leaves no process behind", async () => {
    const {m} = mutex([script('hold.js', "process.stdout.write('0'); setInterval(() => {}, 1000)")])
    const lost = jest.fn()
    m.on('lost', lost)
    const r = await locked(m)
    expect(r).toMatchObject({status: '0', reason: 'held'})
    expect(m.held).toBe(true)
    const pid = m.pid!
    expect(alive(pid)).toBe(true)
    await m.release()
    expect(m.held).toBe(false)
    expect(m.exited).toBe(true)
    expect(alive(pid)).toBe(false) // reaped: not even a zombie
    expect(lost).not.toHaveBeenCalled()
  })

  test("'1' is contention and the helper is gone afterwards", async () => {
    const {m} = mutex([process.execPath, script('contention.js', "process.stdout.write('1'); setInterval(() => {}, 1000)")])
    const r = await locked(m)
    expect(r).toMatchObject({status: '1', reason: 'contention'})
    await waitFor('helper gone', () => (m.exited ? true : undefined), 5000)
    expect(alive(m.pid)).toBe(false)
  })

  test("the helper's own '2' and '3' are reported as such", async () => {
    const a = mutex([script('two.js', "process.stdout.write('2')")]).m
    const b = mutex([script('three.js', "process.stdout.write('3')")]).m
    expect((await locked(a)).status).toBe('2')
    expect((await locked(b)).status).toBe('3')
  })

  test("garbage first is '3', logged, never thrown; the helper is killed", async () => {
    const {m, logs} = mutex([script('garbage.js', "process.stdout.write('x0'); setInterval(() => {}, 1000)")])
    const r = await locked(m)
    expect(r.status).toBe('3')
    expect(r.reason).toContain("0x78 ('x')")
    expect(logs.some((l) => l.source === 'mutex' && l.line.includes("0x78 ('x')"))).toBe(true)
    await waitFor('helper gone', () => (m.exited ? true : undefined), 5000)
  })

  test("a helper that exits at once without output is '3'", async () => {
    const {m} = mutex([script('exit.js', 'process.exit(0)')])
    const r = await locked(m)
    expect(r.status).toBe('3')
    expect(r.reason).toMatch(/without a status/)
    await waitFor('helper reaped', () => (m.exited ? true : undefined), 5000)
  })

  test("a helper that cannot be run is '3', not an exception", async () => {
    const {m, logs} = mutex([path.join(dir, 'does-not-exist')])
    const r = await locked(m)
    expect(r.status).toBe('3')
    expect(logs.some((l) => /cannot run/.test(l.line))).toBe(true)
    const empty = mutex([]).m
    expect((await empty.lock()).status).toBe('3')
  })

  test("a helper that hangs without output times out as '2' and is killed", async () => {
    const {m} = mutex([script('hang.js', 'setInterval(() => {}, 1000)')], {timeoutMs: 300})
    const started = Date.now()
    const r = await locked(m)
    expect(r.status).toBe('2')
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    const pid = m.pid!
    await waitFor('hung helper killed', () => (m.exited ? true : undefined), 5000)
    expect(alive(pid)).toBe(false)
  })

  test("a helper that holds and then exits fires 'lost' once", async () => {
    const {m} = mutex([script('hold-exit.js', "process.stdout.write('0'); setTimeout(() => process.exit(3), 300)")])
    const lost: LostInfo[] = []
    m.on('lost', (info) => lost.push(info))
    expect((await locked(m)).status).toBe('0')
    await waitFor('lost', () => (lost.length ? true : undefined), 5000)
    await new Promise((r) => setTimeout(r, 200))
    expect(lost).toHaveLength(1)
    expect(lost[0].heldMs).toBeGreaterThanOrEqual(200)
    expect(m.held).toBe(false)
  })

  test("closing stdout after '0' is a loss even if the helper lingers; it is then killed", async () => {
    const {m} = mutex([script('close.js', "process.stdout.write('0', () => require('fs').closeSync(1)); setInterval(() => {}, 1000)")])
    const lost = new Promise<LostInfo>((resolve) => m.once('lost', resolve))
    expect((await locked(m)).status).toBe('0')
    const pid = m.pid!
    expect((await lost).reason).toMatch(/closed its output/)
    await waitFor('lingering helper killed', () => (alive(pid) ? undefined : true), 5000)
  })

  test('bytes after the status are ignored (the etcd helper repeats 0)', async () => {
    const {m} = mutex([script('repeat.js', "setInterval(() => process.stdout.write('0x1'), 50)")])
    const lost = jest.fn()
    m.on('lost', lost)
    expect((await locked(m)).status).toBe('0')
    await new Promise((r) => setTimeout(r, 300))
    expect(lost).not.toHaveBeenCalled()
    expect(m.held).toBe(true)
  })

  test('stderr is handed to the logger line by line', async () => {
    const {m, logs} = mutex([script('stderr.js', "process.stderr.write('first line\\nsecond '); setTimeout(() => { process.stderr.write('line\\n'); process.stdout.write('1') }, 50)")])
    expect((await locked(m)).status).toBe('1')
    await waitFor('stderr lines', () => (logs.filter((l) => l.source === 'stderr').length >= 2 ? true : undefined), 5000)
    expect(logs.filter((l) => l.source === 'stderr').map((l) => l.line)).toEqual(['first line', 'second line'])
  })

  test('a helper ignoring SIGTERM is killed with SIGKILL after the grace period', async () => {
    const {m} = mutex([script('stubborn.js', "process.on('SIGTERM', () => {}); process.stdout.write('0'); setInterval(() => {}, 1000)")], {killGraceMs: 300})
    expect((await locked(m)).status).toBe('0')
    const pid = m.pid!
    const started = Date.now()
    await m.release()
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(alive(pid)).toBe(false)
  })

  test('release while pending cancels the attempt', async () => {
    const {m} = mutex([script('slow.js', "setTimeout(() => process.stdout.write('0'), 5000); setInterval(() => {}, 1000)")])
    const pending = m.lock()
    await waitFor('spawned', () => m.pid, 5000)
    const pid = m.pid!
    await m.release()
    expect(await pending).toMatchObject({status: '3', reason: 'cancelled'})
    expect(alive(pid)).toBe(false)
  })

  test('lock() may be called only once', async () => {
    const {m} = mutex([script('once.js', "process.stdout.write('1')")])
    await locked(m)
    await expect(m.lock()).rejects.toThrow(/once/)
  })
})

describe('LockKeeper', () => {
  test('garbage and instant exits are retried with backoff until the helper holds; no crash', async () => {
    const counter = path.join(dir, 'attempts')
    writeFileSync(counter, '0')
    // Attempt 1: garbage, 2: exits at once, 3: contention, 4+: holds.
    const helper = script(
      'flaky.js',
      `const fs = require('fs'); const n = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1
fs.writeFileSync(${JSON.stringify(counter)}, String(n))
if (n === 1) { process.stdout.write('garbage'); setInterval(() => {}, 1000) }
else if (n === 2) process.exit(0)
else if (n === 3) process.stdout.write('1')
else { process.stdout.write('0'); setInterval(() => {}, 1000) }`,
    )
    const logs: string[] = []
    const k = new LockKeeper({argv: [helper], backoff: {initialMs: 50, maxMs: 200, jitter: 0.2}, log: (line) => logs.push(line)})
    keepers.push(k)
    const events: string[] = []
    const delays: number[] = []
    k.on('error', (e) => {
      events.push(`error:${e.status}`)
      delays.push(e.retryInMs)
    })
    k.on('contention', (e) => {
      events.push('contention')
      delays.push(e.retryInMs)
    })
    const held = new Promise((resolve) => k.once('held', resolve))
    k.start()
    k.start() // idempotent
    await held
    expect(events).toEqual(['error:3', 'error:3', 'contention'])
    // exponential growth, jittered within ±20 %, bounded by maxMs
    expect(delays[0]).toBeGreaterThanOrEqual(40)
    expect(delays[0]).toBeLessThanOrEqual(60)
    expect(delays[1]).toBeGreaterThanOrEqual(80)
    expect(delays[1]).toBeLessThanOrEqual(120)
    expect(delays[2]).toBeLessThanOrEqual(200)
    expect(k.held).toBe(true)
    expect(logs.some((l) => /garbage|0x67/.test(l))).toBe(true)
    const pid = k.helperPid!
    await k.stop()
    expect(k.held).toBe(false)
    expect(alive(pid)).toBe(false)
  })

  test("after a loss it reports 'lost' and takes the lock again", async () => {
    const k = new LockKeeper({argv: [script('short-hold.js', "process.stdout.write('0'); setTimeout(() => process.exit(0), 200)")], backoff: {initialMs: 20, maxMs: 50}})
    keepers.push(k)
    let helds = 0
    let losts = 0
    k.on('held', () => helds++)
    k.on('lost', () => losts++)
    k.start()
    await waitFor('two holds and a loss', () => (helds >= 2 && losts >= 1 ? true : undefined), 10_000)
    await k.stop()
  })

  test('retryAfterLost: false stops after the first loss', async () => {
    const k = new LockKeeper({argv: [script('short-hold2.js', "process.stdout.write('0'); setTimeout(() => process.exit(0), 100)")], retryAfterLost: false})
    keepers.push(k)
    const stopped = new Promise<void>((resolve) => k.once('stopped', () => resolve()))
    const held = jest.fn()
    k.on('held', held)
    k.start()
    await stopped
    expect(held).toHaveBeenCalledTimes(1)
    expect(k.active).toBe(false)
  })

  test('stop() cancels an attempt in progress and a backoff wait', async () => {
    const k = new LockKeeper({argv: [script('hang2.js', 'setInterval(() => {}, 1000)')]})
    keepers.push(k)
    k.start()
    await waitFor('helper spawned', () => k.helperPid, 5000)
    const pid = k.helperPid!
    await k.stop()
    expect(alive(pid)).toBe(false)

    const k2 = new LockKeeper({argv: [script('busy.js', "process.stdout.write('1')")], backoff: {initialMs: 60_000, maxMs: 60_000}})
    keepers.push(k2)
    const contention = new Promise((resolve) => k2.once('contention', resolve))
    k2.start()
    await contention
    const started = Date.now()
    await k2.stop()
    expect(Date.now() - started).toBeLessThan(2000)
  })

  test('start() right after stop() (an election flapping): one attempt at a time, and held means what the helper said', async () => {
    // Each helper records its pid, then holds after 300 ms.
    const started = path.join(dir, 'started-pids')
    writeFileSync(started, '')
    const k = new LockKeeper({argv: [script('slow-hold.js', `require('fs').appendFileSync(${JSON.stringify(started)}, process.pid + '\\n'); setTimeout(() => process.stdout.write('0'), 300); setInterval(() => {}, 1000)`)], backoff: {initialMs: 20, maxMs: 20}})
    keepers.push(k)
    const held: number[] = []
    k.on('held', ({pid}) => held.push(pid!))
    k.start()
    await waitFor('first helper spawned', () => k.helperPid, 5000)
    void k.stop()
    k.start()
    await waitFor('held', () => (held.length > 0 ? true : undefined), 5000)
    await new Promise((r) => setTimeout(r, 1000))
    expect(held).toHaveLength(1)
    expect(k.held).toBe(true)
    expect(k.helperPid).toBe(held[0])
    const helpers = readFileSync(started, 'utf8').trim().split('\n').map(Number)
    for (const pid of helpers) pids.add(pid)
    expect(helpers.filter(alive)).toEqual([held[0]])
  })

  test('a listener that throws does not stop the keeper', async () => {
    const logs: string[] = []
    const k = new LockKeeper({argv: [script('busy2.js', "process.stdout.write('1')")], backoff: {initialMs: 20, maxMs: 20}, log: (line) => logs.push(line)})
    keepers.push(k)
    let contentions = 0
    k.on('contention', () => {
      contentions++
      throw new Error('listener bug')
    })
    k.start()
    await waitFor('several attempts', () => (contentions >= 3 ? true : undefined), 10_000)
    expect(k.active).toBe(true)
    expect(logs.some((l) => l.includes('listener bug'))).toBe(true)
  })

  test('backoff is bounded and jittered', () => {
    const k = new LockKeeper({argv: ['x'], backoff: {initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5}, random: () => 1})
    expect([1, 2, 3, 4, 5, 10].map((n) => k.backoffDelay(n))).toEqual([150, 300, 600, 1000, 1000, 1000])
    const k0 = new LockKeeper({argv: ['x'], backoff: {initialMs: 100, maxMs: 1000, jitter: 0.5}, random: () => 0})
    expect([1, 2, 10].map((n) => k0.backoffDelay(n))).toEqual([50, 100, 500])
  })
})

describe('helperArgv', () => {
  const ctx = {cliPath: '/opt/ctdbctl/bin/run.js', natsServers: ['nats://a:4222', 'nats://b:4222'], cluster: 'prod', pnn: 2, nodePath: '/usr/bin/node'}

  test('fcntl runs our own helper with RECHECK in seconds', () => {
    expect(helperArgv({type: 'fcntl', path: '/clusterfs/.ctdb/reclock', recheckIntervalMs: 5000}, ctx)).toEqual([
      '/usr/bin/node', '/opt/ctdbctl/bin/run.js', 'mutex', 'fcntl', '/clusterfs/.ctdb/reclock', '5',
    ])
    expect(helperArgv({type: 'fcntl', path: '/f', recheckIntervalMs: 0}, ctx)!.at(-1)).toBe('0')
    expect(helperArgv({type: 'fcntl', path: '/f', recheckIntervalMs: 300}, ctx)!.at(-1)).toBe('1')
  })

  test('nats-kv runs our lease helper with servers, cluster, holder, ttl and credentials', () => {
    expect(helperArgv({type: 'nats-kv', ttlMs: 3000}, {...ctx, creds: '/etc/ctdbctl/node.creds', tls: {ca: '/ca.pem'}})).toEqual([
      '/usr/bin/node', '/opt/ctdbctl/bin/run.js', 'mutex', 'nats-kv', '--servers', 'nats://a:4222,nats://b:4222', '--cluster', 'prod',
      '--holder', 'pnn:2', '--ttl', '3000ms', '--creds', '/etc/ctdbctl/node.creds', '--tls-ca', '/ca.pem',
    ])
  })

  test('a helper command is used as given; none has no helper', () => {
    const command = ['/usr/libexec/ctdb/ctdb_mutex_ceph_rados_helper', 'ceph', 'client.admin', 'pool', 'obj']
    expect(helperArgv({type: 'helper', command}, ctx)).toEqual(command)
    expect(helperArgv({type: 'none'}, ctx)).toBeUndefined()
    expect(lockKeeperFor({type: 'none'}, ctx)).toBeUndefined()
    expect(lockKeeperFor({type: 'helper', command}, ctx)).toBeInstanceOf(LockKeeper)
  })

  test('defaults to this node runtime', () => {
    const {nodePath: _unused, ...rest} = ctx
    expect(helperArgv({type: 'fcntl', path: '/f', recheckIntervalMs: 5000}, rest)![0]).toBe(process.execPath)
  })
})
