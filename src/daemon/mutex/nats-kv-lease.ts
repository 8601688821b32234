// The lease behind `ctdbctl mutex nats-kv`: a cluster mutex helper (CTDB protocol on stdout)
// holding a lease in a replicated JetStream KV bucket. The algorithm and its safety argument are
// documented in src/commands/mutex/nats-kv.ts; the rules it relies on are marked [R1]..[R5].

import {closeSync, openSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {hostname} from 'node:os'
import {performance} from 'node:perf_hooks'
import type {NatsConnection, NodeConnectionOptions} from '@nats-io/transport-node'
import type {KV, KvEntry} from '@nats-io/kv'
import type {JetStreamClient} from '@nats-io/jetstream'
import {CasLostError, casWrite, isWrongLastSequence, limitDuplicateWindow, revisionInError} from '../../protocol/kv-cas.js'
import {parentAlive, quietWrite} from './fcntl-helper.js'

export const NATS_KV_PROG = 'ctdbctl mutex nats-kv'
export const LOCK_KEY = 'leader'
const PARENT_CHECK_MS = 5000

export function lockBucketName(cluster: string): string {
  return `${cluster}_lock`
}

export interface NatsKvLeaseOptions {
  servers: string[]
  cluster: string
  holder: string
  ttlMs: number
  creds?: string
  tls?: {ca?: string; cert?: string; key?: string}
  /** Bucket replicas when it has to be created (default min(3, servers in the NATS cluster)). */
  replicas?: number
  /** Initial connection timeout (default 5 s). */
  connectTimeoutMs?: number
}

/** The value stored under the key. */
export interface LeaseValue {
  holder: string
  /** Random per helper process: identifies *this* lease holder, even across ambiguous writes. */
  token: string
  ttlMs: number
  host: string
  pid: number
}

export interface LeaseTimings {
  /** Holder: renew (compare-and-set) this long after the last successful renewal was sent. */
  renewEveryMs: number
  /** Holder: give up this long after the last successful renewal was sent. */
  giveUpAfterMs: number
  /** Contender: added to the lease's ttl before it considers an unchanged lease expired. */
  marginMs: number
  /** Contender: how often it reads the key while watching a lease. */
  pollMs: number
  /** Timeout of a JetStream request (reads, takes). */
  requestTimeoutMs: number
}

export function leaseTimings(ttlMs: number): LeaseTimings {
  return {
    renewEveryMs: ttlMs / 3,
    giveUpAfterMs: ttlMs / 2,
    marginMs: Math.max(100, ttlMs / 20),
    pollMs: Math.min(250, Math.max(25, ttlMs / 10)),
    requestTimeoutMs: Math.min(2000, Math.max(250, ttlMs / 3)),
  }
}

export interface LeaseIo {
  status(char: '0' | '1' | '3'): void
  error(line: string): void
  /** Makes the daemon see EOF at once (stdout replaced by /dev/null). */
  closeStatus(): void
  exit(code: number): never
}

const defaultIo: LeaseIo = {
  status: (c) => quietWrite(1, c),
  error: (line) => quietWrite(2, line + '\n'),
  closeStatus: () => {
    try {
      closeSync(1)
      // Reoccupy fd 1 (lowest free descriptor) so that nothing opened later lands on it.
      openSync('/dev/null', 'w')
    } catch {
      /* ignore */
    }
  },
  exit: (code) => process.exit(code),
}

const STOPPING = new Error('stopping')

type WriteResult = {ok: true} | {ok: false; conflict: boolean; error: unknown}

const now = (): number => performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p.catch(() => undefined), new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))])
  } finally {
    if (timer) clearTimeout(timer)
  }
}

function errorText(error: unknown): string {
  return (error as Error)?.message ?? String(error)
}

export async function runNatsKvHelper(options: NatsKvLeaseOptions, io: LeaseIo = defaultIo, prog = NATS_KV_PROG): Promise<void> {
  await new NatsKvLease(options, io, prog).run()
}

class NatsKvLease {
  private readonly t: LeaseTimings
  private readonly token = randomBytes(12).toString('hex')
  private readonly value: string
  private readonly ppid = process.ppid
  private nc?: NatsConnection
  private kv?: KV
  private js?: JetStreamClient
  private state: 'starting' | 'contending' | 'held' | 'stopping' = 'starting'
  /** Revision of our lease as last confirmed. */
  private rev = 0
  /** Monotonic time at which the last confirmed write of ours was *sent* [R3]. */
  private lastRenewalSend = 0
  /** Monotonic send time of the earliest write whose outcome we do not know [R4]. */
  private firstUnconfirmedSend?: number
  private renewTimer?: NodeJS.Timeout
  private giveUpTimer?: NodeJS.Timeout
  private inFlight?: Promise<unknown>
  private reportedErrors = new Set<string>()

  constructor(
    private readonly options: NatsKvLeaseOptions,
    private readonly io: LeaseIo,
    private readonly prog: string,
  ) {
    this.t = leaseTimings(options.ttlMs)
    const value: LeaseValue = {holder: options.holder, token: this.token, ttlMs: options.ttlMs, host: hostname(), pid: process.pid}
    this.value = JSON.stringify(value)
  }

  async run(): Promise<void> {
    if (this.ppid === 1) {
      // Never wait for parent 1 (helpers-spec §4.2): give up before taking anything.
      this.io.error('parent == 1')
      this.io.exit(0)
    }
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void this.shutdown(sig))
    setInterval(() => {
      if (!parentAlive(this.ppid)) void this.shutdown('parent gone')
    }, PARENT_CHECK_MS)

    try {
      await this.connect()
      await this.openBucket()
    } catch (error) {
      if (this.state === 'stopping') return
      this.io.error(`${this.prog}: ${errorText(error)}`)
      this.io.status('3')
      await this.close()
      this.io.exit(0)
    }

    let took: boolean
    try {
      took = await this.contend()
    } catch (error) {
      if (this.state === 'stopping') return
      this.state = 'stopping'
      this.io.error(`${this.prog}: ${errorText(error)}`)
      this.io.status('3')
      if (this.firstUnconfirmedSend !== undefined) await bounded(this.deleteIfOurs(), 1000)
      await this.close()
      this.io.exit(0)
    }
    if (this.state === 'stopping') return
    if (!took) {
      this.state = 'stopping'
      this.io.status('1')
      await this.close()
      this.io.exit(0)
    }
    this.state = 'held'
    this.io.status('0')
    this.scheduleRenewal()
    void this.pullStreamLeader()
  }

  private async connect(): Promise<void> {
    const {connect} = await import('@nats-io/transport-node')
    const {natsAuthenticator} = await import('../../protocol/credentials.js')
    const opts: NodeConnectionOptions = {
      servers: this.options.servers,
      name: `${this.prog} ${this.options.holder}`,
      noRandomize: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      timeout: this.options.connectTimeoutMs ?? 5000,
      pingInterval: Math.max(500, Math.round(this.options.ttlMs / 3)),
      maxPingOut: 2,
    }
    if (this.options.creds) opts.authenticator = natsAuthenticator(this.options.creds)
    const tls = this.options.tls
    if (tls && (tls.ca || tls.cert || tls.key)) opts.tls = {caFile: tls.ca, certFile: tls.cert, keyFile: tls.key}
    this.nc = await connect(opts)
    void (async () => {
      for await (const s of this.nc!.status()) {
        if (s.type === 'disconnect') this.io.error(`${this.prog}: disconnected from ${(s as {server?: string}).server ?? 'NATS'}`)
        else if (s.type === 'reconnect') this.io.error(`${this.prog}: reconnected to ${(s as {server?: string}).server ?? 'NATS'}`)
      }
    })().catch(() => undefined)
  }

  private async openBucket(): Promise<void> {
    const {jetstream} = await import('@nats-io/jetstream')
    const {Kvm} = await import('@nats-io/kv')
    const js = jetstream(this.nc!, {timeout: this.t.requestTimeoutMs})
    this.js = js
    const kvm = new Kvm(js)
    const replicas = this.options.replicas ?? this.clusterReplicas()
    let last: unknown
    // Creating is idempotent for an identical config; a racing creator with another config, or
    // JetStream still electing its leaders after a start, is retried.
    for (let attempt = 1; attempt <= 8; attempt++) {
      if (this.state === 'stopping') throw new Error('stopping')
      try {
        // allow_direct off: reads go to the stream leader, not to a possibly lagging replica
        // (safety never depends on reads [R5], but fresher reads mean fewer needless give-ups).
        this.kv = await kvm.create(lockBucketName(this.options.cluster), {replicas, history: 1, allow_direct: false})
        // Not awaited: takes must not wait on it while JetStream is slow.
        void limitDuplicateWindow(this.nc!, `KV_${lockBucketName(this.options.cluster)}`, this.t.requestTimeoutMs)
        return
      } catch (error) {
        last = error
        await sleep(Math.min(1000, 100 * attempt))
      }
    }
    throw new Error(`cannot open or create the KV bucket ${lockBucketName(this.options.cluster)}: ${errorText(last)}`)
  }

  /**
   * Asks JetStream to move the lease stream's raft leader to our server. Renewals then keep
   * working when any other server dies: otherwise losing the server that led the stream stalls
   * every write for a raft election (4–9 s on nats-server 2.9) and the lease is given up.
   * Best effort: a voluntary step-down elects among the replicas, so it is tried a few times.
   */
  private async pullStreamLeader(): Promise<void> {
    const stream = `KV_${lockBucketName(this.options.cluster)}`
    const ours = this.nc?.info?.server_name
    if (!ours) return
    try {
      const {jetstreamManager} = await import('@nats-io/jetstream')
      const jsm = await jetstreamManager(this.nc!, {timeout: this.t.requestTimeoutMs})
      for (let attempt = 0; attempt < 4 && this.state === 'held'; attempt++) {
        const info = await jsm.streams.info(stream)
        const leader = info.cluster?.leader
        if (!leader || leader === ours || !(info.cluster?.replicas ?? []).some((r) => r.name === ours)) return
        await this.nc!.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, {timeout: this.t.requestTimeoutMs})
        await sleep(500)
      }
    } catch {
      // best effort only
    }
  }

  /** min(3, servers in the NATS cluster): the --servers list and the servers the cluster announces. */
  private clusterReplicas(): number {
    const info = this.nc?.info
    if (!info?.cluster) return 1
    const strip = (u: string) => u.replace(/^[a-z]+:\/\//i, '').replace(/\/$/, '')
    const known = new Set([...this.options.servers.map(strip), ...(info.connect_urls ?? []).map(strip)])
    return Math.max(1, Math.min(3, known.size))
  }

  private isOurs(entry: KvEntry | null): boolean {
    if (!entry || entry.operation !== 'PUT') return false
    try {
      return entry.json<LeaseValue>().token === this.token
    } catch {
      return false
    }
  }

  private declaredTtl(entry: KvEntry): number {
    try {
      const ttl = entry.json<LeaseValue>().ttlMs
      return typeof ttl === 'number' && Number.isFinite(ttl) ? ttl : 0
    } catch {
      return 0
    }
  }

  /** A compare-and-set write of our lease over revision `expected` (0: never written); tracks send times for [R3]/[R4]. */
  private async write(expected: number, timeoutMs?: number): Promise<WriteResult> {
    if (this.state === 'stopping') return {ok: false, conflict: false, error: STOPPING}
    const sentAt = now()
    if (this.firstUnconfirmedSend === undefined) this.firstUnconfirmedSend = sentAt
    try {
      const rev = await casWrite(this.js!, lockBucketName(this.options.cluster), LOCK_KEY, this.value, expected, timeoutMs === undefined ? {} : {timeoutMs})
      // CAS succeeded: no earlier write of ours can commit any more, and this one committed
      // after it was sent.
      this.rev = rev
      this.lastRenewalSend = sentAt
      this.firstUnconfirmedSend = undefined
      return {ok: true}
    } catch (error) {
      return {ok: false, conflict: error instanceof CasLostError || isWrongLastSequence(error), error}
    }
  }

  /** An entry carrying our token is ours, written by a write whose reply we missed [R4]. */
  private adopt(entry: KvEntry): void {
    this.rev = entry.revision
    this.lastRenewalSend = this.firstUnconfirmedSend ?? this.lastRenewalSend
    this.firstUnconfirmedSend = undefined
  }

  /**
   * Resolves true when we took the lease, false on contention. The revision watched is the
   * highest one learned, from reads or from the revision a refused CAS reports: nats-server 2.9
   * can leave a deposed stream leader answering reads with an old state after a partition, so a
   * lower revision (or "free" below what we know) is a stale answer, never a reason to act.
   */
  private async contend(): Promise<boolean> {
    this.state = 'contending'
    let observedRev = -1
    let observedAt = 0
    // The longest ttl any lease value we read declared: a revision learned from a refused write
    // comes without its value.
    let leaseTtl = this.options.ttlMs
    let failingSince: number | undefined
    let writesFailingSince: number | undefined
    const errorBudgetMs = Math.max(5000, 2 * this.options.ttlMs)
    const observe = (rev: number) => {
      observedRev = rev
      observedAt = now()
    }
    /** A refused take: false = contention; true = go on watching (what the write taught us is observed). */
    const refused = async (r: {conflict: boolean; error: unknown}, expected: number): Promise<boolean> => {
      if (!r.conflict) {
        // Outcome unknown [R4] (or refused): read again after a pause; give up after the budget.
        this.noteError(r.error)
        writesFailingSince ??= now()
        if (now() - writesFailingSince > errorBudgetMs) throw new Error(`cannot take the lease: ${errorText(r.error)}`)
        await sleep(this.t.pollMs)
        return true
      }
      writesFailingSince = undefined
      const actual = revisionInError(r.error)
      if (actual === undefined) return this.contention(`another contender took it over revision ${expected}`)
      if (actual <= observedRev) {
        await sleep(this.t.pollMs) // a stale answer to the write: ask again
        return true
      }
      if (observedRev !== -1 && observedRev >= expected) return this.contention(`revision ${observedRev} → ${actual} while we watched`)
      observe(actual)
      return true
    }
    for (;;) {
      if (this.state !== 'contending') return false
      let entry: KvEntry | null
      try {
        entry = await this.kv!.get(LOCK_KEY)
        failingSince = undefined
      } catch (error) {
        failingSince ??= now()
        if (now() - failingSince > errorBudgetMs) throw new Error(`cannot read the lease: ${errorText(error)}`)
        await sleep(this.t.pollMs)
        continue
      }
      if (this.isOurs(entry)) {
        this.adopt(entry!)
        return true
      }
      const rev = entry?.revision ?? 0
      if (rev < observedRev) {
        await sleep(this.t.pollMs) // stale answer
        continue
      }
      if (!entry || entry.operation !== 'PUT') {
        // Free (never taken, or released with a delete): take it [R1].
        const r = await this.write(rev)
        if (r.ok) return true
        if (!(await refused(r, rev))) return false
        continue
      }
      // Someone else's lease.
      leaseTtl = Math.max(leaseTtl, this.declaredTtl(entry))
      if (rev > observedRev) {
        if (observedRev !== -1) return this.contention(`renewed while we watched (revision ${observedRev} → ${rev}): ${describeEntry(entry)}`)
        observe(rev)
      }
      const expiresAt = observedAt + leaseTtl + this.t.marginMs
      if (now() >= expiresAt) {
        // Unchanged for a full ttl on our own clock: expired; take it with CAS [R2].
        const r = await this.write(observedRev)
        if (r.ok) return true
        if (!(await refused(r, observedRev))) return false
        continue
      }
      await sleep(Math.min(this.t.pollMs, Math.max(1, expiresAt - now())))
    }
  }

  /** Contention, with who holds the lease on stderr (the daemon logs it: elections stay explainable). */
  private contention(why: string): false {
    this.io.error(`${this.prog}: contention - ${why}`)
    return false
  }

  private scheduleRenewal(): void {
    if (this.state !== 'held') return
    clearTimeout(this.renewTimer)
    clearTimeout(this.giveUpTimer)
    const t = now()
    this.renewTimer = setTimeout(() => void this.renew(), Math.max(0, this.lastRenewalSend + this.t.renewEveryMs - t))
    this.giveUpTimer = setTimeout(
      () => void this.lose(`could not renew the lease within ${Math.round(this.t.giveUpAfterMs)}ms`, true),
      Math.max(0, this.lastRenewalSend + this.t.giveUpAfterMs - t),
    )
  }

  private async renew(): Promise<void> {
    if (this.state !== 'held') return
    const remaining = this.lastRenewalSend + this.t.giveUpAfterMs - now()
    const timeout = Math.round(Math.min(this.t.renewEveryMs, Math.max(50, remaining)))
    const p = this.write(this.rev, timeout)
    this.inFlight = p
    const r = await p
    this.inFlight = undefined
    if (this.state !== 'held') return
    if (r.ok) {
      this.scheduleRenewal()
      return
    }
    if (r.conflict) {
      try {
        const entry = await this.kv!.get(LOCK_KEY)
        if (this.state !== 'held') return
        if (this.isOurs(entry)) {
          this.adopt(entry!)
          this.scheduleRenewal()
          return
        }
        await this.lose(`lease taken over (${describeEntry(entry)})`, false)
        return
      } catch {
        /* retry below */
      }
    }
    // Transient (reconnecting, leader election, timeout): retry soon; the give-up timer bounds it [R3].
    this.renewTimer = setTimeout(() => void this.renew(), Math.min(100, this.t.renewEveryMs / 4))
  }

  /** The lease is no longer ours to rely on: tell the daemon (EOF) first, then clean up and exit. */
  private async lose(reason: string, mayStillBeOurs: boolean): Promise<void> {
    if (this.state !== 'held') return
    this.state = 'stopping'
    clearTimeout(this.renewTimer)
    clearTimeout(this.giveUpTimer)
    this.io.closeStatus()
    this.io.error(`${this.prog}: lock lost - ${reason}`)
    if (mayStillBeOurs) await bounded(this.deleteIfOurs(this.rev), 1000)
    await this.close()
    this.io.exit(1)
  }

  /** SIGTERM (release), parent gone: delete our lease with CAS so others may take it at once. */
  private async shutdown(why: string): Promise<void> {
    if (this.state === 'stopping') return
    const before = this.state
    this.state = 'stopping'
    clearTimeout(this.renewTimer)
    clearTimeout(this.giveUpTimer)
    if (why === 'parent gone') this.io.error('parent gone')
    if (before === 'held' || before === 'contending') {
      if (this.inFlight) await bounded(this.inFlight, 1000)
      await bounded(this.deleteIfOurs(before === 'held' ? this.rev : undefined), 1500)
    }
    await this.close()
    this.io.exit(0)
  }

  private async deleteIfOurs(knownRev?: number): Promise<void> {
    if (!this.kv) return
    // A delete expecting R competes with a take expecting R: the same message id keeps it exclusive.
    const del = (rev: number) => casWrite(this.js!, lockBucketName(this.options.cluster), LOCK_KEY, '', rev, {delete: true})
    if (knownRev) {
      try {
        await del(knownRev)
        return
      } catch (error) {
        if (!(error instanceof CasLostError) && !isWrongLastSequence(error)) throw error
      }
    }
    const entry = await this.kv.get(LOCK_KEY)
    if (this.isOurs(entry)) await del(entry!.revision)
  }

  private async close(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) await bounded(this.nc.close(), 500)
  }

  private noteError(error: unknown): void {
    if (error === STOPPING) return
    const text = errorText(error)
    if (this.reportedErrors.has(text)) return
    this.reportedErrors.add(text)
    this.io.error(`${this.prog}: ${text}`)
  }
}

function describeEntry(entry: KvEntry | null): string {
  if (!entry) return 'key gone'
  if (entry.operation !== 'PUT') return `key ${entry.operation === 'DEL' ? 'deleted' : 'purged'}`
  try {
    const v = entry.json<LeaseValue>()
    return `holder ${v.holder} on ${v.host}, revision ${entry.revision}`
  } catch {
    return `revision ${entry.revision}`
  }
}
