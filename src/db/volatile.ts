// Volatile records: fetch-lock with migration to the requesting node (core-spec §4.4-4.5).
//
// Simplified from CTDB's REQ_CALL / REQ_DMASTER / REPLY_DMASTER packets because NATS gives us
// request/reply: the requester R, holding its local record lock, asks the location master L
// ("migrate"); L serialises migrations per key, and either gives the record itself (L is the
// data master) or asks the data master D for it ("give"), which hands it over under D's record
// lock and records R as the new data master. L keeps a copy with dmaster = R and answers R,
// which stores the record with RSN + 1. Every request carries the database generation; a node
// that is frozen or in another generation answers "retry", and the requester waits for the
// next thaw and starts again.
import type {FetchLockResult, OwnerId, RecordHeader} from './api.js'
import {KeyedLocks} from './lock-queue.js'
import type {DbNode} from './node-state.js'
import {decodeValue, dmasterOf, encodeValue, FLAG_MIGRATED_WITH_DATA, HEADER_SIZE} from './record.js'
import type {LocalDb} from './store.js'
import {RemoteError, RetryLater} from './transport.js'
import {BadRequest} from './wire.js'

/** L waits this long for the data master, R a little longer for L (so R never gives up first). */
const GIVE_TIMEOUT_MS = 30_000
const MIGRATE_TIMEOUT_MS = 40_000
const VOLATILE = ['volatile'] as const
/** A wipe waits this long for the database's record locks to be released. */
const WIPE_WAIT_MS = 10_000

interface Handle {
  owner: OwnerId
  db: LocalDb
  key: Buffer
  header: RecordHeader
  /** The record is in the local database (a missing record is created by the first store). */
  stored: boolean
  release: () => void
}

export function lockKey(db: string, key: Buffer): string {
  return `${db}\0${key.toString('latin1')}`
}

export class VolatileRecords {
  readonly recordLocks = new KeyedLocks()
  readonly lmasterLocks = new KeyedLocks()
  private readonly handles = new Map<number, Handle>()
  /** Databases being wiped: new fetch-locks wait for these. */
  private readonly wiping = new Map<string, Promise<void>>()
  private nextHandle = 1

  constructor(private readonly node: DbNode, private readonly requestRecovery: (why: string) => void) {}

  async fetchLock(owner: OwnerId, name: string, key: Buffer): Promise<FetchLockResult> {
    const n = this.node
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(100, attempt * 2)))
      // Thawed is the common case: no await, so no extra microtask per request.
      if (n.halted) await n.ready()
      if (this.wiping.size > 0) await this.wiping.get(name)
      const db = n.db(name, VOLATILE)
      const gen = n.generation
      const release = await this.recordLocks.acquire(lockKey(name, key))
      let handed = false
      try {
        if (n.halted || gen !== n.generation) continue
        n.enter()
        let value: Buffer | undefined
        try {
          value = db.getSync(key)
          // A missing record's data master is its location master.
          if ((value ? dmasterOf(value) : n.lmaster(key)) === n.pnn) {
            handed = true
            return this.handle(owner, db, key, value ?? encodeValue({rsn: 0, dmaster: n.pnn, flags: 0}, Buffer.alloc(0)), release, value !== undefined)
          }
        } finally {
          n.leave()
        }
        // Migrating does not hold up a freeze: a reply that arrives frozen or late is dropped
        // (migration never changes data, so recovery finds the record's newest copy anyway).
        const stored = await this.migrateHere(db, key, gen, value !== undefined)
        // A freeze may have slipped in since the store: the record is safely here, but hand it out only when thawed.
        if (stored === undefined || n.halted || gen !== n.generation) continue
        handed = true
        return this.handle(owner, db, key, stored, release, true)
      } finally {
        if (!handed) release()
      }
    }
  }

  async store(owner: OwnerId, handle: number, data: Buffer, release = false): Promise<void> {
    const h = this.ownHandle(owner, handle)
    h.db.put(h.key, encodeValue(h.header, data), h.stored)
    h.stored = true
    if (release) this.release(owner, handle)
  }

  release(owner: OwnerId, handle: number): void {
    const h = this.ownHandle(owner, handle)
    this.handles.delete(handle)
    h.release()
    this.node.leave()
  }

  /**
   * Runs `fn` (a wipe) once no record of database `name` is locked, holding new fetch-locks of
   * it until `fn` is done, as CTDB wipes a frozen database. Fails after 10 s of held locks.
   */
  async whileUnlocked(name: string, fn: () => Promise<void>): Promise<void> {
    const before = this.wiping.get(name)
    let open!: () => void
    const gate = new Promise<void>((r) => (open = r))
    this.wiping.set(name, gate)
    try {
      await before
      const deadline = Date.now() + WIPE_WAIT_MS
      while (this.recordLocks.heldWithPrefix(lockKey(name, Buffer.alloc(0)))) {
        if (Date.now() > deadline) throw new Error(`records of ${name} on node ${this.node.pnn} stayed locked for ${WIPE_WAIT_MS / 1000} s`)
        await new Promise((r) => setTimeout(r, 10))
      }
      await fn()
    } finally {
      if (this.wiping.get(name) === gate) this.wiping.delete(name)
      open()
    }
  }

  closeOwner(owner: OwnerId): void {
    for (const [id, h] of this.handles) if (h.owner === owner) this.release(owner, id)
  }

  /** Incoming "migrate" at the location master. */
  async onMigrate(name: string, key: Buffer, gen: number, to: number): Promise<Buffer> {
    const n = this.node
    n.checkGeneration(gen)
    if (n.lmaster(key) !== n.pnn) throw new RetryLater(`node ${n.pnn} is not the location master of this key`)
    if (to === n.pnn) throw new BadRequest('a node does not send migrate to itself')
    return this.lmasterStep(n.db(name, VOLATILE), key, gen, to)
  }

  /** Incoming "give" at the data master: hand the record to `to` under the record lock. */
  async onGive(name: string, key: Buffer, gen: number, to: number): Promise<Buffer> {
    const n = this.node
    n.checkGeneration(gen)
    const db = n.db(name, VOLATILE)
    const release = await this.recordLocks.acquire(lockKey(name, key))
    try {
      n.checkGeneration(gen)
      return await this.giveLocked(db, key, to)
    } finally {
      release()
    }
  }

  /**
   * Brings the record here (the caller holds its record lock): stores it with RSN + 1 and this
   * node as data master and returns the stored value, or undefined when the caller should retry.
   */
  private async migrateHere(db: LocalDb, key: Buffer, gen: number, existed: boolean): Promise<Buffer | undefined> {
    const n = this.node
    const lmaster = n.lmaster(key)
    try {
      if (lmaster === n.pnn) return await this.lmasterStep(db, key, gen, n.pnn, existed)
      const reply = await n.untilFrozen(n.transport.request(lmaster, {op: 'migrate', db: db.name, kind: 'volatile', gen, to: n.pnn}, key, MIGRATE_TIMEOUT_MS))
      if (!reply || n.halted || gen !== n.generation) return undefined
      return this.adopt(db, key, reply.body, existed)
    } catch (e) {
      const err = e as Error
      n.log.debug({db: db.name, err: err.message}, 'record migration failed; retrying')
      // No answer can leave the location master and this node disagreeing: recover.
      const expected = e instanceof RetryLater || (e instanceof RemoteError && e.retry && !e.noAnswer)
      if (!expected) this.requestRecovery(`record migration failed: ${err.message}`)
      return undefined
    }
  }

  /** Stores a migrated record as this node's (RSN + 1); call right after a generation check. */
  private adopt(db: LocalDb, key: Buffer, given: Buffer, existed: boolean): Buffer {
    const rec = decodeValue(given)
    const header = {rsn: (rec?.header.rsn ?? 0) + 1, dmaster: this.node.pnn, flags: (rec?.header.flags ?? 0) & ~FLAG_MIGRATED_WITH_DATA}
    const stored = encodeValue(header, rec?.data ?? Buffer.alloc(0))
    db.put(key, stored, existed)
    return stored
  }

  /**
   * The location master's part. When this node itself is the requester, the record is stored
   * here before the per-key lock is released, so the next migration sees the new data master.
   */
  private async lmasterStep(db: LocalDb, key: Buffer, gen: number, to: number, existed = true): Promise<Buffer> {
    const n = this.node
    // Per generation: a forward stuck on a dead node never blocks the next generation.
    const unlock = await this.lmasterLocks.acquire(`${gen}\0${lockKey(db.name, key)}`)
    try {
      n.checkGeneration(gen)
      const value = await db.get(key)
      const dmaster = value ? dmasterOf(value) : n.pnn
      if (dmaster === n.pnn) {
        // This node is the data master: the requester is another node (a local requester that
        // is data master never migrates), so take the record lock like any other giver.
        const release = await this.recordLocks.acquire(lockKey(db.name, key))
        try {
          n.checkGeneration(gen)
          return await this.giveLocked(db, key, to)
        } finally {
          release()
        }
      }
      // The requester dropped an earlier answer (it froze, or gave up waiting): it never used
      // the record, so this node's copy from that migration is still the newest.
      if (dmaster === to) return value!
      const reply = await n.untilFrozen(n.transport.request(dmaster, {op: 'give', db: db.name, kind: 'volatile', gen, to}, key, GIVE_TIMEOUT_MS))
      if (!reply) throw new RetryLater(`node ${n.pnn} froze for recovery`)
      n.checkGeneration(gen)
      const given = reply.body
      if (to === n.pnn) return this.adopt(db, key, given, existed)
      if (given.length >= HEADER_SIZE) db.put(key, withNewDmaster(given, to), value !== undefined)
      return given
    } finally {
      unlock()
    }
  }

  /** Call with the record lock held, right after a generation check. */
  private async giveLocked(db: LocalDb, key: Buffer, to: number): Promise<Buffer> {
    const n = this.node
    n.enter()
    try {
      const value = await db.get(key)
      if (value && dmasterOf(value) !== n.pnn) throw new RetryLater(`node ${n.pnn} is no longer the data master of this record`)
      const current = value ?? encodeValue({rsn: 0, dmaster: n.pnn, flags: 0}, Buffer.alloc(0))
      db.put(key, withNewDmaster(current, to), value !== undefined)
      return current
    } finally {
      n.leave()
    }
  }

  private handle(owner: OwnerId, db: LocalDb, key: Buffer, value: Buffer, release: () => void, stored: boolean): FetchLockResult {
    const id = this.nextHandle++
    const rec = decodeValue(value)!
    this.handles.set(id, {owner, db, key, header: rec.header, stored, release})
    this.node.enter()
    return {handle: id, header: rec.header, ...(rec.data.length > 0 ? {data: Buffer.from(rec.data)} : {})}
  }

  private ownHandle(owner: OwnerId, handle: number): Handle {
    const h = this.handles.get(handle)
    if (!h || h.owner !== owner) throw new Error(`no record lock ${handle} is held by this client`)
    return h
  }
}

function withNewDmaster(value: Buffer, dmaster: number): Buffer {
  const out = Buffer.from(value)
  out.writeUInt32LE(dmaster >>> 0, 8)
  if (out.length > HEADER_SIZE) out.writeUInt32LE(out.readUInt32LE(16) | FLAG_MIGRATED_WITH_DATA, 16)
  return out
}
