// The leader's database recovery (core-spec §3): freeze every participant in a new
// generation, attach every database everywhere, then per database collect, merge and push,
// and finally thaw with the new VNN map. Volatile: every node's records are pulled and merged
// by RSN; every surviving non-empty record is pushed to its new location master, which becomes
// its data master, and to the next participant after it, so losing any one node later still
// leaves each record with at least its recovered RSN. (CTDB pushes every record to every node;
// two copies keep that guarantee for one failure with two thirds of the bytes on three nodes
// and far fewer on larger clusters.) Persistent/replicated: the copy of the node with the
// highest sequence number is pushed to the others. Pages are at most `pageBytes` each.
// The wipe and pushes fill a replacement copy on each node that becomes live only at thaw: an
// attempt that fails after its wipe (or is superseded by another leader) leaves every node's
// records in place for the next pull.
// A node that fails a step is blamed (banning credits), left out, and the recovery restarted.
import {randomInt} from 'node:crypto'
import type {DbKind} from './api.js'
import {BanningCredits} from './banning-credits.js'
import {hashlittle} from './hash.js'
import {copyHolders, persistentSource, VolatileMerge} from './merge.js'
import type {DbNode} from './node-state.js'
import {decodePage, HEADER_SIZE, PageWriter} from './record.js'

const RECOVERY_STEP_TIMEOUT_MS = 30_000
const ATTEMPTS = 3

export class NodeFailure extends Error {
  constructor(
    readonly pnn: number,
    message: string,
    /** The node's process is not there (nothing listens on its subject): left out, not blamed. */
    readonly gone = false,
  ) {
    super(message)
  }
}

export interface RecoveryResult {
  generation: number
  participants: number[]
  vnnmap: number[]
  excluded: number[]
  databases: number
  records: number
  ms: number
}

export interface RecoveryDeps {
  node: DbNode
  pageBytes: number
  ban(pnn: number): Promise<void>
}

export class RecoveryMaster {
  private readonly credits = new BanningCredits()

  constructor(private readonly deps: RecoveryDeps) {}

  /** Recovers with `participants`, leaving out nodes that fail; throws when no attempt succeeds. */
  /**
   * `stillLeader` is asked before the thaw, the step that makes the recovered copies live: a
   * node that lost the cluster lock meanwhile (cut off mid-recovery) must not install what it
   * merged without the nodes it could no longer see (as CTDB kills its recovery helper then).
   */
  async recover(participants: number[], vnnmapOf: (participants: number[]) => number[], stillLeader: () => boolean = () => true): Promise<RecoveryResult> {
    const node = this.deps.node
    const started = performance.now()
    let active = [...participants].sort((a, b) => a - b)
    const excluded: number[] = []
    let lastError: Error | undefined
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const generation = randomInt(2, 2 ** 31)
      try {
        const {databases, records} = await this.attempt(active, generation, vnnmapOf(active), stillLeader)
        return {generation, participants: active, vnnmap: vnnmapOf(active), excluded, databases, records, ms: Math.round(performance.now() - started)}
      } catch (e) {
        lastError = e as Error
        if (!(e instanceof NodeFailure) || e.pnn === node.pnn) break
        node.log.warn({pnn: e.pnn, err: e.message, generation}, `recovery attempt failed; leaving node ${e.pnn} out and starting again`)
        if (!e.gone) await this.blame(e.pnn)
        active = active.filter((p) => p !== e.pnn)
        excluded.push(e.pnn)
      }
    }
    throw lastError ?? new Error('recovery failed')
  }

  private async blame(pnn: number): Promise<void> {
    if (!this.credits.blame(pnn, performance.now())) return
    this.deps.node.log.warn({pnn}, `banning node ${pnn}: it failed database recoveries repeatedly`)
    await this.deps.ban(pnn).catch((e: Error) => this.deps.node.log.error({pnn, err: e.message}, 'could not ban the node'))
  }

  private async attempt(active: number[], gen: number, vnnmap: number[], stillLeader: () => boolean): Promise<{databases: number; records: number}> {
    const node = this.deps.node
    const replies = await this.onAll(active, (p) => this.call(p, {op: 'freeze', gen}))
    const dbs = new Map<string, DbKind>()
    for (const [i, r] of replies.entries()) {
      const list = Array.isArray(r.head.dbs) ? (r.head.dbs as {name: string; kind: DbKind}[]) : []
      for (const d of list) {
        const known = dbs.get(d.name)
        if (known && known !== d.kind) throw new Error(`database ${d.name} is ${known} on one node and ${d.kind} on node ${active[i]}`)
        dbs.set(d.name, d.kind)
      }
    }
    await this.onAll(active, (p) => Promise.all([...dbs].map(([name, kind]) => this.call(p, {op: 'attach', name, kind, recovery: true}))))
    let records = 0
    for (const [name, kind] of dbs) records += kind === 'volatile' ? await this.recoverVolatile(name, active, gen, vnnmap) : await this.recoverFullCopy(name, active, gen)
    if (!stillLeader()) throw new Error('no longer the leader: recovery abandoned before the thaw')
    await this.onAll(active, (p) => this.call(p, {op: 'thaw', gen, vnnmap, participants: active, recmaster: node.pnn}))
    return {databases: dbs.size, records}
  }

  private async recoverVolatile(db: string, active: number[], gen: number, vnnmap: number[]): Promise<number> {
    const merge = new VolatileMerge(this.deps.node.pnn)
    await this.onAll(active, (p) => this.pull(p, db, gen, (key, value) => merge.add(key, value)))
    await this.onAll(active, (p) => this.call(p, {op: 'wipe', db, gen}))
    const writers = new Map<number, PageWriter>(active.map((p) => [p, new PageWriter()]))
    const pending: Promise<unknown>[] = []
    let count = 0
    for (const [key, value] of merge.entries()) {
      if (value.length <= HEADER_SIZE) continue // deleted records disappear, as in CTDB
      const lmaster = vnnmap[hashlittle(key) % vnnmap.length]!
      for (const p of copyHolders(lmaster, active)) {
        const w = writers.get(p)!
        w.add(key, value, lmaster)
        if (w.bytes >= this.deps.pageBytes) {
          pending.push(this.push(p, db, gen, w.take()))
          if (pending.length >= 8) await Promise.all(pending.splice(0))
        }
      }
      count++
    }
    for (const [p, w] of writers) if (w.count > 0) pending.push(this.push(p, db, gen, w.take()))
    await Promise.all(pending)
    return count
  }

  private async recoverFullCopy(db: string, active: number[], gen: number): Promise<number> {
    const seqnums = await this.onAll(active, (p) => this.call(p, {op: 'seqnum', db, gen}))
    const source = persistentSource(seqnums.map((r, i) => ({pnn: active[i]!, seqnum: typeof r.head.seqnum === 'number' ? r.head.seqnum : 0})))
    const targets = active.filter((p) => p !== source)
    await this.onAll(targets, (p) => this.call(p, {op: 'wipe', db, gen}))
    let count = 0
    if (targets.length === 0) return 0
    const w = new PageWriter()
    const flush = async () => {
      const page = w.take()
      await this.onAll(targets, (p) => this.push(p, db, gen, page))
    }
    await this.pull(source, db, gen, async (key, value) => {
      w.add(key, value)
      count++
      if (w.bytes >= this.deps.pageBytes) await flush()
    })
    if (w.count > 0) await flush()
    return count
  }

  private async pull(pnn: number, db: string, gen: number, each: (key: Buffer, value: Buffer) => void | Promise<void>): Promise<void> {
    let after: string | undefined
    for (;;) {
      const r = await this.call(pnn, {op: 'pull', db, gen, maxBytes: this.deps.pageBytes, ...(after ? {after} : {})})
      const entries = decodePage(r.body)
      if (!entries) throw new NodeFailure(pnn, `node ${pnn} sent a malformed page of ${db}`)
      for (const e of entries) {
        const r = each(e.key, e.value)
        if (r) await r
      }
      if (typeof r.head.next !== 'string') return
      after = r.head.next
    }
  }

  private push(pnn: number, db: string, gen: number, page: Buffer): Promise<unknown> {
    return this.call(pnn, {op: 'push', db, gen}, page)
  }

  private async call(pnn: number, head: Record<string, unknown>, body?: Uint8Array) {
    try {
      return await this.deps.node.call(pnn, head, body, RECOVERY_STEP_TIMEOUT_MS)
    } catch (e) {
      const message = (e as Error).message
      throw new NodeFailure(pnn, `node ${pnn} failed recovery step ${String(head.op)}: ${message}`, /no responders/i.test(message))
    }
  }

  /** Runs `step` on every node in parallel; the first failure (a NodeFailure) is thrown. */
  private async onAll<T>(nodes: number[], step: (pnn: number) => Promise<T>): Promise<T[]> {
    const results = await Promise.allSettled(nodes.map(step))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
    return results.map((r) => (r as PromiseFulfilledResult<T>).value)
  }
}
