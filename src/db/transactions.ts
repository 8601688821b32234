// Persistent and replicated databases: cluster-wide transactions (core-spec §4.6). Start takes
// the database's transaction lock from the recovery master; reads see the local full copy
// overlaid with the transaction's writes; commit sends the whole batch (with the incremented
// __db_sequence_number__) to every participant, which applies it in one LevelDB batch. When a
// participant fails, the committer asks for a recovery (which copies the database from the node
// with the highest sequence number) and then decides from the commit id every record of the
// batch carries (in the header's reserved field) whether the commit made it.
import {randomBytes, randomInt} from 'node:crypto'
import type {OwnerId} from './api.js'
import {KeyedLocks} from './lock-queue.js'
import type {DbNode} from './node-state.js'
import {decodePage, decodeValue, encodeValue, FLAG_PERSISTENT, PageWriter, SEQNUM_KEY, seqnumData} from './record.js'
import type {LocalDb} from './store.js'
import {RemoteError} from './transport.js'
import {TxLockTable} from './tx-locks.js'

const FULL_COPY = ['persistent', 'replicated'] as const
const LOCK_WAIT_MS = 20_000
const APPLY_TIMEOUT_MS = 30_000
/** A holder that neither commits nor cancels within this loses the lock. */
const LEASE_MS = 60_000
/** A commit is one NATS message to each node (default max_payload 1 MB, minus the head). */
const MAX_COMMIT_BYTES = 1_000_000 - 4096

interface Tx {
  owner: OwnerId
  db: LocalDb
  gen: number
  token: string
  /** The sequence number when the lock was taken: a resent commit needs it unchanged. */
  startSeqnum: number
  writes: Map<string, {key: Buffer; data: Buffer}>
}

export class Transactions {
  /** Kept by the recovery master for the whole cluster. */
  readonly locks = new TxLockTable(LEASE_MS, LOCK_WAIT_MS)
  private readonly txs = new Map<number, Tx>()
  private readonly applying = new KeyedLocks()
  private nextId = 1

  constructor(private readonly node: DbNode, private readonly requestRecovery: (why: string) => Promise<void>) {}

  async start(owner: OwnerId, name: string): Promise<number> {
    const db = this.node.db(name, FULL_COPY)
    const lock = await this.lock(name)
    const id = this.nextId++
    this.txs.set(id, {owner, db, ...lock, startSeqnum: await db.seqnum(), writes: new Map()})
    return id
  }

  /** The database's cluster-wide lock, in the current generation (kept across a recovery when `token` held it). */
  private async lock(name: string, token = `${this.node.pnn}:${randomBytes(8).toString('hex')}`): Promise<{gen: number; token: string}> {
    const n = this.node
    for (;;) {
      await n.ready()
      const gen = n.generation
      try {
        const reply = await n.call(n.recmaster, {op: 'txlock', db: name, gen, token}, undefined, LOCK_WAIT_MS + 5000)
        if (reply.head.granted === true && gen === n.generation) return {gen, token}
      } catch (e) {
        if (!(e instanceof RemoteError && e.retry)) throw e
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  }

  async get(owner: OwnerId, id: number, key: Buffer): Promise<Buffer | undefined> {
    const tx = this.own(owner, id)
    const w = tx.writes.get(key.toString('latin1'))
    if (w) return w.data.length > 0 ? w.data : undefined
    const rec = decodeValue(await tx.db.get(key))
    return rec && rec.data.length > 0 ? Buffer.from(rec.data) : undefined
  }

  put(owner: OwnerId, id: number, key: Buffer, data: Buffer): void {
    if (key.equals(SEQNUM_KEY)) throw new Error('__db_sequence_number__ is written by commits only')
    this.own(owner, id).writes.set(key.toString('latin1'), {key: Buffer.from(key), data: Buffer.from(data)})
  }

  /**
   * CTDB's client rules (§4.6): a commit a recovery interrupted is resent when the sequence
   * number shows nobody else committed meanwhile, and counts as done when the recovered
   * database holds it.
   */
  async commit(owner: OwnerId, id: number): Promise<{seqnum: number}> {
    const n = this.node
    const tx = this.own(owner, id)
    this.txs.delete(id)
    try {
      if (tx.writes.size === 0) return {seqnum: await tx.db.seqnum()}
      for (;;) {
        if (n.halted || tx.gen !== n.generation) Object.assign(tx, await this.lock(tx.db.name, tx.token))
        const old = await tx.db.seqnum()
        if (old !== tx.startSeqnum) throw new Error(`transaction on ${tx.db.name} not committed: another commit (sequence number ${old}) came first after a recovery; start it again`)
        const seqnum = old + 1
        const commitId = randomInt(1, 2 ** 32)
        const failed = await this.send(tx, seqnum, commitId)
        if (failed.length === 0) return {seqnum}
        n.log.warn({db: tx.db.name, seqnum, failed}, 'commit failed on some nodes; waiting for a recovery')
        if (await this.committedAfterRecovery(tx, seqnum, commitId, failed.join('; '))) return {seqnum}
      }
    } finally {
      this.unlock(tx)
    }
  }

  /** Sends the batch to every participant; returns the failures. */
  private async send(tx: Tx, seqnum: number, commitId: number): Promise<string[]> {
    const n = this.node
    const page = new PageWriter()
    const header = {rsn: seqnum, dmaster: n.pnn, flags: FLAG_PERSISTENT}
    for (const w of tx.writes.values()) page.add(w.key, encodeValue(header, w.data, commitId))
    page.add(SEQNUM_KEY, encodeValue(header, seqnumData(seqnum), commitId))
    const body = page.take()
    if (body.length > MAX_COMMIT_BYTES) throw new Error(`transaction on ${tx.db.name} is too large: ${body.length} bytes of records, at most ${MAX_COMMIT_BYTES} fit one commit`)
    const participants = n.participants
    const results = await Promise.allSettled(
      participants.map(async (p) => {
        const r = await n.untilFrozen(n.call(p, {op: 'apply', db: tx.db.name, kind: tx.db.kind, gen: tx.gen, seqnum}, body, APPLY_TIMEOUT_MS))
        if (!r) throw new Error('a recovery started')
      }),
    )
    return results.flatMap((r, i) => (r.status === 'rejected' ? [`node ${participants[i]}: ${(r.reason as Error).message}`] : []))
  }

  cancel(owner: OwnerId, id: number): void {
    const tx = this.own(owner, id)
    this.txs.delete(id)
    this.unlock(tx)
  }

  closeOwner(owner: OwnerId): void {
    for (const [id, tx] of this.txs) if (tx.owner === owner) this.cancel(owner, id)
  }

  /** Incoming "apply": one LevelDB batch, only on top of the previous sequence number. */
  async onApply(name: string, gen: number, seqnum: number, body: Buffer): Promise<void> {
    const n = this.node
    n.checkGeneration(gen)
    const db = n.db(name, FULL_COPY)
    const entries = decodePage(body)
    if (!entries) throw new Error('malformed record batch')
    const release = await this.applying.acquire(name)
    try {
      n.checkGeneration(gen)
      n.enter()
    } catch (e) {
      release()
      throw e
    }
    try {
      const current = await db.seqnum()
      if (current !== seqnum - 1) throw new Error(`${name} is at sequence number ${current} on node ${n.pnn}, the commit expects ${seqnum - 1}`)
      const existed = await Promise.all(entries.map((e) => db.get(e.key)))
      await db.writeBatch(entries)
      db.records += existed.filter((v) => v === undefined).length
    } finally {
      release()
      n.leave()
    }
  }

  private async committedAfterRecovery(tx: Tx, seqnum: number, commitId: number, why: string): Promise<boolean> {
    const n = this.node
    if (!n.halted) await this.requestRecovery(`commit of ${tx.db.name} failed: ${why}`).catch(() => undefined)
    const deadline = performance.now() + 120_000
    while (n.halted || n.generation === tx.gen) {
      if (performance.now() > deadline) throw new Error(`transaction on ${tx.db.name}: no recovery after a failed commit (${why})`)
      await n.nextThaw(1000)
      await n.ready()
    }
    // Every record of the batch carries the commit id: one of them still holding it (a later
    // commit may have replaced the sequence number record already) proves the commit made it.
    for (const key of [SEQNUM_KEY, ...[...tx.writes.values()].map((w) => w.key)]) {
      if (decodeValue(await tx.db.get(key))?.reserved === commitId) return true
    }
    return false
  }

  /**
   * Runs `wipe` (emptying the database on every participant) holding the database's transaction
   * lock, so no commit can land on some nodes before it and on others after it.
   */
  async underLock(name: string, wipe: (gen: number) => Promise<void>): Promise<void> {
    const db = this.node.db(name, FULL_COPY)
    const lock = await this.lock(name)
    try {
      await wipe(lock.gen)
    } finally {
      this.unlock({db, ...lock})
    }
  }

  private unlock(tx: {db: LocalDb; gen: number; token: string}): void {
    const n = this.node
    if (tx.gen !== n.generation) return // the recovery cleared the lock table
    n.call(n.recmaster, {op: 'txunlock', db: tx.db.name, token: tx.token}, undefined, 5000).catch((e: Error) => n.log.debug({err: e.message}, 'could not release a transaction lock'))
  }

  private own(owner: OwnerId, id: number): Tx {
    const tx = this.txs.get(id)
    if (!tx || tx.owner !== owner) throw new Error(`no transaction ${id} is open for this client`)
    return tx
  }
}
