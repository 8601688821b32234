// One node's database service: the DatabaseApi the client socket calls, the handler of the
// inter-node requests on ctdbctl.<cluster>.db.node.<pnn> (docs/protocol.md), and, on the
// leader, the recovery trigger.
import type {NatsConnection} from '@nats-io/transport-node'
import type {Logger} from 'pino'
import type {RecoveryRecord} from '../cluster/state.js'
import type {DatabaseApi, DbInfo, DbKind, FetchLockResult, OwnerId, RecordHeader, TraverseRecord} from './api.js'
import {vnnMap} from './merge.js'
import {DbNode} from './node-state.js'
import {decodePage, decodeValue, dmasterOf, HEADER_SIZE, type StoredRecord} from './record.js'
import {RecoveryMaster, type RecoveryResult} from './recovery.js'
import {DB_KINDS, type LocalDb} from './store.js'
import {Transactions} from './transactions.js'
import {DbTransport, RetryLater} from './transport.js'
import {decodeEntries, encodeEntries, Vacuum} from './vacuum.js'
import {VolatileRecords} from './volatile.js'
import {BadRequest, int, ints, optionalB64, str, type Head} from './wire.js'

const FREEZE_TIMEOUT_MS = 10_000
/** NATS's default max_payload is 1 MB: pages stay below it with room for the head. */
const PAGE_BYTES = 900_000
/** A failed recovery is retried after this long. */
const RECOVERY_RETRY_MS = 1000
/** How often a fenced node that sees a majority again asks the leader to recover. */
const FENCED_ASK_INTERVAL_MS = 2000

export interface DatabaseServiceOptions {
  nc: NatsConnection
  cluster: string
  pnn: number
  /** Databases live in <dataDir>/db/{volatile,persistent}/<name>. */
  dataDir: string
  log: Logger
  /** Bans a node that keeps failing recoveries (the daemon's ban control). */
  ban?: (pnn: number) => Promise<void>
  pageBytes?: number
  /** After every recovery this node led, successful or not (status, metrics). */
  onRecovery?: (record: RecoveryRecord) => void
  /** How often deleted volatile records are vacuumed (CTDB's VacuumInterval; default 10 s). */
  vacuumIntervalMs?: number
}

/** What the daemon tells the service at every evaluation. */
export interface ClusterView {
  /** This node leads the cluster: it runs recoveries. */
  leader: boolean
  /** Changes whenever the active node set changes (the daemon's generation). */
  generation: number
  /** Active nodes (not banned, stopped, disconnected or deleted). */
  participants: number[]
  lmasterCapable: (pnn: number) => boolean
  /** This node sees a majority of the cluster's nodes. */
  quorate: boolean
  /** The leader this node sees, -1 for none. */
  leaderPnn: number
  /** Every configured node is active: no node that is away can hold a copy, so vacuuming may run. */
  everyNodeActive?: boolean
}

export class DatabaseService implements DatabaseApi {
  private readonly node: DbNode
  private readonly transport: DbTransport
  private readonly volatile: VolatileRecords
  private readonly transactions: Transactions
  private readonly recovery: RecoveryMaster
  private view?: ClusterView
  private recoveredKey = ''
  private recovering = false
  private recoveryWanted = false
  private retryTimer?: NodeJS.Timeout
  private sweepTimer?: NodeJS.Timeout
  private vacuumTimer?: NodeJS.Timeout
  private readonly vacuumer: Vacuum
  private vacuuming = false
  private stopped = false
  private lastFencedAsk = -Infinity
  lastRecovery?: RecoveryResult

  constructor(private readonly options: DatabaseServiceOptions) {
    this.transport = new DbTransport(options.nc, options.cluster, options.pnn)
    this.node = new DbNode(options.pnn, options.dataDir, this.transport, options.log)
    this.node.handler = (head, body) => this.handle(head, body)
    this.volatile = new VolatileRecords(this.node, (why) => void this.askRecovery(why).catch(() => undefined))
    this.transactions = new Transactions(this.node, (why) => this.askRecovery(why))
    this.vacuumer = new Vacuum(this.node, {records: this.volatile.recordLocks, lmaster: this.volatile.lmasterLocks})
    this.recovery = new RecoveryMaster({node: this.node, pageBytes: options.pageBytes ?? PAGE_BYTES, ban: options.ban ?? (async () => undefined)})
  }

  get pnn(): number {
    return this.node.pnn
  }

  get generation(): number {
    return this.node.generation
  }

  get frozen(): boolean {
    return this.node.frozen
  }

  async start(declared: {name: string; kind: DbKind}[] = []): Promise<void> {
    for (const d of declared) {
      // One database that cannot be opened (a damaged persistent copy) must not keep the node down.
      await this.node.open(d.name, d.kind).catch((e: Error) => this.options.log.error({db: d.name, err: e.message}, 'could not open a declared database'))
    }
    this.transport.serve(
      (head, body) => this.handle(head, body),
      (e) => this.options.log.error({err: e}, 'database request handler failed'),
    )
    // The subscription must reach the server before the leader's first freeze, or this node is left out.
    await this.options.nc.flush()
    this.sweepTimer = setInterval(() => this.transactions.locks.sweep(), 1000)
    this.vacuumTimer = setInterval(() => {
      if (this.view?.everyNodeActive && this.view.quorate && !this.vacuuming) void this.vacuum().catch(() => undefined)
    }, this.options.vacuumIntervalMs ?? 10_000)
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.retryTimer)
    clearInterval(this.sweepTimer)
    clearInterval(this.vacuumTimer)
    this.transport.stop()
    await this.node.close()
  }

  /** Called by the daemon on every evaluation; the leader recovers whenever the active set changed. */
  update(view: ClusterView): void {
    this.view = view
    if (!view.quorate) this.node.fence()
    else if (this.node.fenced) this.askToBeRecovered(view.leaderPnn)
    if (!view.leader || !view.quorate) {
      this.recoveredKey = ''
      return
    }
    this.maybeRecover()
  }

  // ---- DatabaseApi -------------------------------------------------------------------------

  list(): DbInfo[] {
    return [...this.node.dbs.values()].map((db) => this.info(db)).sort((a, b) => a.name.localeCompare(b.name))
  }

  async attach(name: string, kind: DbKind): Promise<DbInfo> {
    if (!DB_KINDS.includes(kind)) throw new Error(`unknown database kind ${JSON.stringify(kind)}: use volatile, persistent or replicated`)
    const known = this.node.dbs.has(name)
    const db = await this.node.open(name, kind)
    if (!known) {
      // Broadcast as CTDB; a node that misses it gets the database at the next recovery.
      const others = this.node.participants.filter((p) => p !== this.pnn)
      await Promise.allSettled(others.map((p) => this.node.call(p, {op: 'attach', name, kind}, undefined, 5000)))
    }
    return this.info(db)
  }

  async fetch(name: string, key: Buffer): Promise<{header: RecordHeader; data?: Buffer}> {
    const db = this.node.db(name)
    if (db.kind === 'volatile') {
      const owner = `fetch:${Math.random()}`
      const r = await this.volatile.fetchLock(owner, name, key)
      this.volatile.release(owner, r.handle)
      return {header: r.header, ...(r.data ? {data: r.data} : {})}
    }
    await this.node.ready()
    const rec = decodeValue(await db.get(key))
    if (!rec) return {header: {rsn: 0, dmaster: this.pnn, flags: 0}}
    return {header: rec.header, ...(rec.data.length > 0 ? {data: Buffer.from(rec.data)} : {})}
  }

  fetchLock(owner: OwnerId, db: string, key: Buffer): Promise<FetchLockResult> {
    return this.volatile.fetchLock(owner, db, key)
  }

  store(owner: OwnerId, handle: number, data: Buffer, release = false): Promise<void> {
    return this.volatile.store(owner, handle, data, release)
  }

  release(owner: OwnerId, handle: number): void {
    this.volatile.release(owner, handle)
  }

  /**
   * Removes deleted (empty) volatile records this node is data master of, cluster-wide
   * (vacuum.ts). Runs every vacuumIntervalMs while every node is active; resolves with how many.
   */
  async vacuum(): Promise<number> {
    if (this.vacuuming || this.node.halted) return 0
    this.vacuuming = true
    try {
      const removed = await this.vacuumer.run()
      if (removed > 0) this.options.log.info({removed}, 'vacuumed deleted records')
      return removed
    } finally {
      this.vacuuming = false
    }
  }

  async delete(name: string, key: Buffer): Promise<void> {
    const db = this.node.db(name)
    const owner = `delete:${Math.random()}`
    if (db.kind === 'volatile') {
      const r = await this.volatile.fetchLock(owner, name, key)
      await this.volatile.store(owner, r.handle, Buffer.alloc(0), true)
      return
    }
    const tx = await this.transactions.start(owner, name)
    this.transactions.put(owner, tx, key, Buffer.alloc(0))
    await this.transactions.commit(owner, tx)
  }

  async *traverse(name: string): AsyncIterable<TraverseRecord> {
    const db = this.node.db(name)
    await this.node.ready()
    const gen = this.node.generation
    // Volatile: each participant's records it is data master of; full copies: this node's.
    const sources = db.kind === 'volatile' ? this.node.participants : [this.pnn]
    for (const p of sources) {
      let after: string | undefined
      for (;;) {
        const r = await this.node.call(p, {op: 'traverse', db: name, gen, ...(after ? {after} : {})}, undefined, 30_000)
        for (const e of decodePage(r.body) ?? []) {
          const rec = decodeValue(e.value)!
          yield {key: Buffer.from(e.key), data: Buffer.from(rec.data), header: rec.header}
        }
        if (typeof r.head.next !== 'string') break
        after = r.head.next
      }
    }
  }

  transactionStart(owner: OwnerId, db: string): Promise<number> {
    return this.transactions.start(owner, db)
  }

  transactionGet(owner: OwnerId, tx: number, key: Buffer): Promise<Buffer | undefined> {
    return this.transactions.get(owner, tx, key)
  }

  transactionPut(owner: OwnerId, tx: number, key: Buffer, data: Buffer): void {
    this.transactions.put(owner, tx, key, data)
  }

  transactionDelete(owner: OwnerId, tx: number, key: Buffer): void {
    this.transactions.put(owner, tx, key, Buffer.alloc(0))
  }

  transactionCommit(owner: OwnerId, tx: number): Promise<{seqnum: number}> {
    return this.transactions.commit(owner, tx)
  }

  transactionCancel(owner: OwnerId, tx: number): void {
    this.transactions.cancel(owner, tx)
  }

  /**
   * Empties the database on every participant. Persistent/replicated: under the database's
   * transaction lock (no commit interleaves). Volatile: each node first waits for the record
   * locks held on that database, as a CTDB wipe runs frozen.
   */
  async wipe(name: string): Promise<void> {
    const db = this.node.db(name)
    await this.node.ready()
    const wipeAll = async (gen: number) => {
      const results = await Promise.allSettled(this.node.participants.map((p) => this.node.call(p, {op: 'wipedb', db: name, gen}, undefined, 30_000)))
      const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
      if (failed.length > 0) throw new Error(`wipe of ${name} failed: ${failed.map((f) => (f.reason as Error).message).join('; ')}`)
    }
    if (db.kind === 'volatile') await wipeAll(this.node.generation)
    else await this.transactions.underLock(name, wipeAll)
  }

  closeOwner(owner: OwnerId): void {
    this.volatile.closeOwner(owner)
    this.transactions.closeOwner(owner)
  }

  /** This node's own copy of a record (diagnostics and tests). */
  async localRecord(name: string, key: Buffer): Promise<StoredRecord | undefined> {
    return decodeValue(await this.node.db(name).get(key))
  }

  /** Digest of this node's copy of a database (nodes with the same content agree). */
  digest(name: string): Promise<string> {
    return this.node.db(name).digest()
  }

  // ---- recovery trigger ----------------------------------------------------------------------

  private maybeRecover(): void {
    const view = this.view
    if (!view?.leader || this.recovering || this.stopped) return
    const key = `${view.generation}:${view.participants.join(',')}`
    if (key === this.recoveredKey && !this.recoveryWanted) return
    this.recovering = true
    this.recoveryWanted = false
    const participants = view.participants.includes(this.pnn) ? view.participants : [...view.participants, this.pnn]
    const startedAt = new Date()
    const report = (ok: boolean, error?: string) =>
      this.options.onRecovery?.({startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), ok, ...(error ? {error} : {})})
    this.recovery
      .recover(participants, (active) => vnnMap(active, view.lmasterCapable, this.pnn), () => this.view?.leader === true && this.view.quorate)
      .then((result) => {
        this.lastRecovery = result
        this.recoveredKey = result.excluded.length === 0 ? key : ''
        this.options.log.info(result, 'database recovery finished')
        report(true)
        if (result.excluded.length > 0) this.retryLater()
      })
      .catch((e: Error) => {
        this.options.log.error({err: e.message}, 'database recovery failed; retrying')
        report(false, e.message)
        this.retryLater()
      })
      .finally(() => {
        this.recovering = false
        if (this.recoveryWanted) this.maybeRecover()
      })
  }

  private retryLater(): void {
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => {
      this.recoveryWanted = true
      this.maybeRecover()
    }, RECOVERY_RETRY_MS)
  }

  /** A fenced node back in sight of a majority asks the leader for the recovery that thaws it. */
  private askToBeRecovered(leader: number): void {
    const now = performance.now()
    if (leader < 0 || now - this.lastFencedAsk < FENCED_ASK_INTERVAL_MS) return
    this.lastFencedAsk = now
    this.node.call(leader, {op: 'recover', why: `node ${this.pnn} is back in sight of a majority`}, undefined, 5000).catch((e: Error) => this.options.log.warn({err: e.message}, 'could not ask the leader for a recovery'))
  }

  private async askRecovery(why: string): Promise<void> {
    const to = this.node.recmaster >= 0 ? this.node.recmaster : this.pnn
    await this.node.call(to, {op: 'recover', why}, undefined, 5000)
  }

  // ---- inter-node requests ------------------------------------------------------------------

  private async handle(h: Head, body: Buffer): Promise<{head?: Head; body?: Uint8Array}> {
    const n = this.node
    switch (h.op) {
      case 'migrate':
        await this.ensure(h)
        return {body: await this.volatile.onMigrate(str(h, 'db'), body, int(h, 'gen'), int(h, 'to'))}
      case 'give':
        await this.ensure(h)
        return {body: await this.volatile.onGive(str(h, 'db'), body, int(h, 'gen'), int(h, 'to'))}
      case 'vacuum':
        await this.ensure(h)
        return {head: {removed: await this.vacuumer.atLocationMaster(str(h, 'db'), int(h, 'gen'), int(h, 'from'), decodeEntries(body))}}
      case 'purge': {
        n.checkGeneration(int(h, 'gen'))
        const db = n.db(str(h, 'db'))
        if (db.kind !== 'volatile') throw new BadRequest(`database ${db.name} is not volatile`)
        return {body: encodeEntries(this.vacuumer.purge(db, decodeEntries(body), h.own === true))}
      }
      case 'apply':
        await this.ensure(h)
        await this.transactions.onApply(str(h, 'db'), int(h, 'gen'), int(h, 'seqnum'), body)
        return {}
      case 'txlock': {
        const db = str(h, 'db')
        const token = str(h, 'token')
        n.checkGeneration(int(h, 'gen'))
        if (n.recmaster !== this.pnn) throw new RetryLater(`node ${this.pnn} is not the recovery master`)
        const granted = await new Promise<boolean>((resolve) => this.transactions.locks.acquire(db, token, resolve))
        return {head: {granted}}
      }
      case 'txunlock':
        this.transactions.locks.release(str(h, 'db'), str(h, 'token'))
        return {}
      case 'attach':
        await this.ensure({db: h.name, kind: h.kind})
        return {}
      case 'traverse': {
        n.checkGeneration(int(h, 'gen'))
        const db = n.db(str(h, 'db'))
        const filter = db.kind === 'volatile' ? (v: Buffer) => v.length > HEADER_SIZE && dmasterOf(v) === this.pnn : (v: Buffer) => v.length > HEADER_SIZE
        return this.page(db, h, PAGE_BYTES, filter)
      }
      case 'wipedb': {
        n.checkGeneration(int(h, 'gen'))
        const db = n.db(str(h, 'db'))
        if (db.kind === 'volatile') await this.volatile.whileUnlocked(db.name, () => db.clear())
        else await db.clear()
        return {}
      }
      case 'recover':
        this.options.log.info({why: h.why}, 'recovery requested')
        this.recoveryWanted = true
        this.maybeRecover()
        return {}
      // Recovery steps, only for the generation this node was frozen in.
      case 'freeze': {
        const gen = int(h, 'gen')
        this.transactions.locks.retryWaiters()
        // A replacement copy an earlier recovery left unfinished must never become live.
        await Promise.all([n.freeze(gen, FREEZE_TIMEOUT_MS), ...[...n.dbs.values()].map((db) => db.dropReplacement())])
        return {head: {dbs: [...n.dbs.values()].map((db) => ({name: db.name, kind: db.kind}))}}
      }
      case 'seqnum':
        n.checkFrozenFor(int(h, 'gen'))
        return {head: {seqnum: await n.db(str(h, 'db')).seqnum()}}
      case 'pull':
        n.checkFrozenFor(int(h, 'gen'))
        return this.page(n.db(str(h, 'db')), h, Math.min(int(h, 'maxBytes'), PAGE_BYTES))
      // The wipe and the pushes build a replacement copy; the live copy, which every pull
      // reads, is replaced only at this recovery's thaw, so a recovery that stops half way
      // (superseded by another leader, a node failing) loses nothing.
      case 'wipe': {
        const gen = int(h, 'gen')
        n.checkFrozenFor(gen)
        await n.db(str(h, 'db')).startReplacement(gen)
        return {}
      }
      case 'push': {
        const gen = int(h, 'gen')
        n.checkFrozenFor(gen)
        const entries = decodePage(body)
        if (!entries) throw new BadRequest('malformed record page')
        await n.db(str(h, 'db')).writeReplacement(gen, entries)
        return {}
      }
      case 'thaw': {
        const gen = int(h, 'gen')
        n.checkFrozenFor(gen)
        await Promise.all([...n.dbs.values()].map((db) => db.commitReplacement(gen)))
        const participants = ints(h, 'participants')
        const recmaster = int(h, 'recmaster')
        if (recmaster === this.pnn) this.transactions.locks.dropHolders((token) => !participants.includes(Number(token.split(':')[0])))
        else this.transactions.locks.clear()
        n.thaw(int(h, 'gen'), ints(h, 'vnnmap'), participants, recmaster)
        return {}
      }
      default:
        throw new BadRequest(`unknown database request ${JSON.stringify(h.op)}`)
    }
  }

  private async page(db: LocalDb, h: Head, maxBytes: number, filter?: (v: Buffer) => boolean): Promise<{head: Head; body: Buffer}> {
    const after = optionalB64(h, 'after')
    const p = await db.page(after, maxBytes, filter)
    return {head: {count: p.count, ...(p.next ? {next: p.next.toString('base64')} : {})}, body: p.page}
  }

  /** Opens the database a request names when this node does not have it yet. */
  private async ensure(h: Head): Promise<void> {
    const name = str(h, 'db')
    const kind = str(h, 'kind') as DbKind
    if (!DB_KINDS.includes(kind)) throw new BadRequest(`unknown database kind ${JSON.stringify(kind)}`)
    await this.node.open(name, kind)
  }

  private info(db: LocalDb): DbInfo {
    return {id: db.id, name: db.name, kind: db.kind, records: db.records, path: db.path, healthy: true, ...(db.kind === 'volatile' ? {} : {seqnum: db.lastSeqnum})}
  }
}
