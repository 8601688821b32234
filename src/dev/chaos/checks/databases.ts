// Clients of the clustered databases during the chaos (issue 10): on every node a client on the
// daemon's socket commits persistent transactions and updates volatile records, and two
// invariants are checked. "No committed persistent transaction lost": once settled, every
// transaction whose commit resolved is on every node with its value. "Volatile records never go
// back to an older sequence number": each fetchLock's RSN is at least the highest RSN of that
// key seen by an operation that completed before this one started (so concurrent operations
// on other nodes cannot make a false report) — except when the node that held that newest copy
// has since been out of the cluster in the eyes of a peer that sees a majority: as in CTDB, a volatile recovery without
// it keeps the newest surviving copy (counted as a revert, logged, not a violation). Operations are bounded: a stuck one (frozen or
// isolated daemon) is abandoned and its connection dropped, and an unfinished commit is neither
// counted as committed nor as lost.
import {join} from 'node:path'
import {CtdbClient} from '../../../client/ctdb-client.js'
import {SOCKET_FILE} from '../../../daemon/client-socket/surface.js'
import type {ChaosContext} from '../context.js'

export const PERSISTENT_DB = 'chaos_persistent.tdb'
export const VOLATILE_DB = 'chaos_volatile.tdb'
export const DATABASES_SPEC = `  databases:\n    - {name: ${PERSISTENT_DB}, kind: persistent}\n    - {name: ${VOLATILE_DB}, kind: volatile}\n`
const OP_TIMEOUT_MS = 5000
const PAUSE_MS = 250
const INACTIVE_GRACE_MS = 1500
/** Few volatile keys shared by every node, so records keep migrating. */
const VOLATILE_KEYS = 4

/** The newest RSN seen of a volatile key: on which node (its data master then) and when. */
export interface NewestCopy {
  rsn: number
  pnn: number
  at: number
}

/**
 * A fetchLock's RSN against the newest seen before it started: older is a violation, unless the
 * node holding the newest copy was seen inactive since (`inactiveAt`), which makes it a revert.
 */
export function judgeRsn(rsn: number, floor: NewestCopy | undefined, inactiveAt: number | undefined): 'ok' | 'revert' | 'violation' {
  if (!floor || rsn >= floor.rsn) return 'ok'
  return inactiveAt !== undefined && inactiveAt >= floor.at ? 'revert' : 'violation'
}

function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${OP_TIMEOUT_MS} ms`)), OP_TIMEOUT_MS)))
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

export interface DbCounts {
  commits: number
  volatileUpdates: number
  /** RSNs that went back after the node holding the newer copy left the cluster. */
  revertsAfterNodeLoss: number
  failedOps: number
}

export class DbWorkload {
  /** key → value and when its commit resolved. */
  readonly committed = new Map<string, {value: string; at: string}>()
  readonly counts: DbCounts = {commits: 0, volatileUpdates: 0, revertsAfterNodeLoss: 0, failedOps: 0}
  private readonly newest = new Map<string, NewestCopy>()
  private running = false
  private loops: Promise<void>[] = []

  constructor(private readonly ctx: ChaosContext) {}

  private socket(pnn: number): string {
    return join(this.ctx.lc.dir, `n${pnn}`, SOCKET_FILE)
  }

  start(): void {
    this.running = true
    this.loops = this.ctx.lc.lab.nodes.map((n) => this.loop(n.index))
  }

  async stop(): Promise<void> {
    this.running = false
    await Promise.all(this.loops)
  }

  private async loop(pnn: number): Promise<void> {
    let client: CtdbClient | undefined
    for (let i = 0; this.running; i++) {
      try {
        client ??= await bounded(CtdbClient.connect(this.socket(pnn)), `connect to n${pnn}`)
        await this.persistentOp(client, pnn, i)
        await this.volatileOp(client, pnn, i)
      } catch (e) {
        this.counts.failedOps++
        this.ctx.rec.event('db-op-failed', {pnn, op: i, error: (e as Error).message})
        const old = client
        client = undefined
        void old?.close().catch(() => undefined)
      }
      await new Promise((r) => setTimeout(r, PAUSE_MS))
    }
    await client?.close().catch(() => undefined)
  }

  private async persistentOp(c: CtdbClient, pnn: number, i: number): Promise<void> {
    const key = `p-${pnn}-${i}`
    const value = `${pnn}:${i}`
    const tx = await bounded(c.transaction(PERSISTENT_DB), `transaction on n${pnn}`)
    await bounded(tx.put(key, value), `put on n${pnn}`)
    await bounded(tx.commit(), `commit on n${pnn}`)
    this.committed.set(key, {value, at: new Date().toISOString()})
    this.counts.commits++
  }

  private async volatileOp(c: CtdbClient, pnn: number, i: number): Promise<void> {
    const key = `v-${i % VOLATILE_KEYS}`
    const floor = this.newest.get(key)
    const rec = await bounded(c.fetchLock(VOLATILE_DB, key), `fetchLock on n${pnn}`)
    try {
      await this.observe(key, rec.header.rsn, pnn, floor)
      await bounded(rec.store(`${pnn}:${i}`), `store on n${pnn}`)
      this.counts.volatileUpdates++
    } catch (e) {
      await rec.release().catch(() => undefined)
      throw e
    }
  }

  private async observe(key: string, rsn: number, pnn: number, floor: NewestCopy | undefined): Promise<void> {
    let verdict = judgeRsn(rsn, floor, floor && this.ctx.lastSeenInactive.get(floor.pnn))
    if (verdict === 'violation') {
      // Peers are sampled every 500 ms: give the sampler time to see a departure that came first.
      await new Promise((r) => setTimeout(r, INACTIVE_GRACE_MS))
      verdict = judgeRsn(rsn, floor, floor && this.ctx.lastSeenInactive.get(floor.pnn))
    }
    const what = `fetchLock of ${key} on n${pnn} returned RSN ${rsn}, older than ${floor?.rsn} seen on n${floor?.pnn} before it started`
    if (verdict === 'revert') {
      this.counts.revertsAfterNodeLoss++
      this.ctx.rec.event('volatile-revert', {detail: `${what}; n${floor!.pnn} has left the cluster since`})
    } else {
      this.ctx.rec.check('volatile-rsn', verdict === 'ok', what)
    }
    // After a revert (or a reported violation) the copy handed out is the one to follow: one
    // lost update is reported once, not again by every later operation on that key.
    if (verdict !== 'ok' || !floor || rsn > floor.rsn) this.newest.set(key, {rsn, pnn, at: Date.now()})
  }

  /** Committed transactions missing or different on a node (undefined: none). */
  async lostCommits(): Promise<string | undefined> {
    // Only commits that completed before the first read: later ones may race the traversals.
    const committed = [...this.committed]
    for (const n of this.ctx.lc.lab.nodes) {
      const c = await bounded(CtdbClient.connect(this.socket(n.index)), `connect to n${n.index}`)
      try {
        const seen = new Map<string, string>()
        for await (const r of c.traverse(PERSISTENT_DB)) seen.set(r.key.toString(), r.data.toString())
        const lost = committed.filter(([k, c]) => seen.get(k) !== c.value)
        if (lost.length > 0) return `n${n.index} lacks ${lost.length} of ${committed.length} committed transactions, e.g. ${lost.slice(0, 3).map(([k, c]) => `${k}=${c.value} committed at ${c.at} (has ${seen.get(k) ?? 'nothing'})`).join(', ')}`
      } finally {
        await c.close().catch(() => undefined)
      }
    }
    return undefined
  }
}
