// `ctdbctl mutex nats-kv` against a real 3-server JetStream cluster (Debian nats-server):
// exclusion, release, expiry after a killed holder, and a killed NATS server — never two holders.
// Runs the built CLI: npm run build first.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {jetstreamManager} from '@nats-io/jetstream'
import {Kvm, type KV} from '@nats-io/kv'
import {startNatsServers, stopNatsServers, stopProcess, type NatsServerHandle} from '../../src/dev/nats-servers.js'
import {requireBuilt} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'
import {Processes, ours, sleep} from './mutex-util.js'

const TTL_MS = 3000
let dir: string | undefined
let servers: NatsServerHandle[] = []
let observer: NatsConnection | undefined
const procs = new Processes()

beforeAll(async () => {
  requireBuilt('dist/commands/mutex/nats-kv.js')
  dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-mutex-kv-'))
  servers = await startNatsServers({count: 3, dir})
  observer = await connect({servers: servers.map((s) => s.url)})
}, 60_000)

afterEach(async () => {
  await procs.cleanup()
})

afterAll(async () => {
  await procs.cleanup()
  await observer?.close().catch(() => undefined)
  await stopNatsServers(servers)
  if (dir) rmSync(dir, {recursive: true, force: true})
})

function urls(order = [0, 1, 2]): string {
  return order.map((i) => servers[i].url).join(',')
}

function lease(cluster: string, holder: string, options: {order?: number[]; ttl?: string} = {}): string[] {
  return ours('mutex', 'nats-kv', '--servers', urls(options.order), '--cluster', cluster, '--holder', holder, '--ttl', options.ttl ?? `${TTL_MS}ms`)
}

/** Polls the lease key from the test's own connection and records each revision change. */
async function watchKey(cluster: string): Promise<{changes: {rev: number; at: number}[]; stop: () => void}> {
  const kv: KV = await new Kvm(observer!).open(`${cluster}_lock`)
  const changes: {rev: number; at: number}[] = []
  let running = true
  void (async () => {
    while (running) {
      try {
        const e = await kv.get('leader')
        const rev = e?.revision ?? 0
        if (changes.at(-1)?.rev !== rev) changes.push({rev, at: Date.now()})
      } catch {
        /* transient */
      }
      await sleep(20)
    }
  })()
  return {changes, stop: () => (running = false)}
}

test('two contenders at once: exactly one holds, the other sees contention; the bucket is R3 with a 10 s duplicate window', async () => {
  const [a, b] = await Promise.all([procs.lock('a', lease('kv-two', 'a')), procs.lock('b', lease('kv-two', 'b'))])
  expect([a.result!.status, b.result!.status].sort()).toEqual(['0', '1'])
  const holder = a.result!.status === '0' ? a : b
  expect(holder.mutex.held).toBe(true)
  const jsm = await jetstreamManager(observer!)
  expect((await jsm.streams.info('KV_kv-two_lock')).config.num_replicas).toBe(3)
  // Message ids are remembered for 10 s, not JetStream's 2 minutes (a failed write's id would block a revision).
  await waitFor('the duplicate window shortened', async () => ((await jsm.streams.info('KV_kv-two_lock')).config.duplicate_window === 10_000 * 1e6 ? true : undefined), 5000)
  // A latecomer also sees contention, within about ttl/3 of watching.
  const c = await procs.lock('c', lease('kv-two', 'c'))
  expect(c.result!.status).toBe('1')
  expect(c.result!.latencyMs).toBeLessThan(TTL_MS)
  expect(procs.overlaps()).toEqual([])
})

test('holder SIGTERM releases: the next contender takes it at once', async () => {
  const a = await procs.lock('a', lease('kv-release', 'a', {ttl: '5s'}))
  expect(a.result!.status).toBe('0')
  expect((await procs.lock('b', lease('kv-release', 'b', {ttl: '5s'}))).result!.status).toBe('1')
  await procs.release(a)
  const started = Date.now()
  const c = await procs.lock('c', lease('kv-release', 'c', {ttl: '5s'}))
  expect(c.result!.status).toBe('0')
  expect(Date.now() - started).toBeLessThan(2500) // no waiting for the 5 s lease to expire
  expect(procs.overlaps()).toEqual([])
})

test('holder SIGKILL: the other takes it only after ttl without renewal, and within ttl + 2 s', async () => {
  const a = await procs.lock('a', lease('kv-kill', 'a'))
  expect(a.result!.status).toBe('0')
  const watcher = await watchKey('kv-kill')
  try {
    const b = procs.keeper('b', {argv: lease('kv-kill', 'b'), backoff: {initialMs: 50, maxMs: 200}})
    let contention = 0
    b.on('contention', () => contention++)
    const held = new Promise<number>((resolve) => b.once('held', () => resolve(Date.now())))
    b.start()
    await waitFor('b sees contention', () => (contention > 0 ? true : undefined), 10_000)
    await sleep(500)
    const killedAt = Date.now()
    process.kill(a.mutex.pid!, 'SIGKILL')
    const heldAt = await held
    const lastRenewal = watcher.changes.filter((c) => c.at <= killedAt).at(-1)!
    expect(watcher.changes.filter((c) => c.at <= killedAt).length).toBeGreaterThanOrEqual(2) // it renewed while b contended
    expect(heldAt - lastRenewal.at).toBeGreaterThanOrEqual(TTL_MS)
    expect(heldAt - killedAt).toBeLessThanOrEqual(TTL_MS + 2000)
    expect(procs.overlaps()).toEqual([])
  } finally {
    watcher.stop()
  }
})

test("holder's NATS server killed: it reconnects and keeps or loses the lease, never two holders", async () => {
  const a = await procs.lock('a', lease('kv-server', 'a', {order: [0, 1, 2]}))
  expect(a.result!.status).toBe('0')
  const b = procs.keeper('b', {argv: lease('kv-server', 'b', {order: [1, 2, 0]}), backoff: {initialMs: 50, maxMs: 200}})
  let contention = 0
  b.on('contention', () => contention++)
  b.start()
  await waitFor('b sees contention', () => (contention > 0 ? true : undefined), 10_000)

  // Sample both sides while server 0 (a's server) dies.
  let both = 0
  let samples = 0
  const sampler = setInterval(() => {
    samples++
    if (a.mutex.held && b.held) both++
  }, 10)
  try {
    await stopProcess(servers[0].pid, servers[0].process, 'SIGKILL')
    await sleep(3 * TTL_MS)
    await waitFor('someone holds the lock again', () => (a.mutex.held || b.held ? true : undefined), 30_000)
    await sleep(TTL_MS)
  } finally {
    clearInterval(sampler)
  }
  expect(samples).toBeGreaterThan(100)
  expect(both).toBe(0)
  expect(procs.overlaps()).toEqual([])
  expect(a.logs.some((l) => /disconnected/.test(l))).toBe(true)
  if (a.mutex.held) expect(a.logs.some((l) => /reconnected/.test(l))).toBe(true)
  else expect(a.logs.some((l) => /lock lost/.test(l))).toBe(true)
  expect(a.mutex.held !== b.held).toBe(true)
}, 90_000)
