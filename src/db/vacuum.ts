// Vacuuming (CTDB's, simplified): a deleted volatile record stays as an empty record (header
// only) at its data master, and copies of older versions may sit on other nodes (the location
// master's, the second copy a recovery pushed). Removing only the empty record would let a
// recovery bring an older copy back, so the data master D hands its empty records to their
// location master L, which, holding the key's location-master lock (no migration can start):
//   1. checks its own copy still names D as data master at no newer RSN, and empties it (it
//      must keep pointing at D until D has dropped the record: D may have stored it again),
//   2. has every other participant drop its copies no newer than the deleted one,
//   3. has D drop the empty record if it is unchanged (same RSN, still empty, still D's),
//   4. drops its own copy.
// A key that fails a step (a record lock held, a newer copy somewhere, D stored it again) stays
// for the next pass. Locks are only tried, never waited for, so vacuuming never holds up clients.
// The service runs this only while every configured node is active: a node that is away could
// otherwise hold an older copy that comes back with it. Candidates are the keys this node stored
// empty since it started (LocalDb.emptyKeys), so a pass never scans the database.
import type {KeyedLocks} from './lock-queue.js'
import type {DbNode} from './node-state.js'
import {decodePage, dmasterOf, HEADER_SIZE, PageWriter, rsnOf, type PageEntry} from './record.js'
import type {LocalDb} from './store.js'
import {lockKey} from './volatile.js'
import {BadRequest} from './wire.js'

/** At most this many deleted records per database and pass. */
const PASS_RECORDS = 5000
const CALL_TIMEOUT_MS = 10_000
const VOLATILE = ['volatile'] as const

export function encodeEntries(entries: PageEntry[]): Buffer {
  const w = new PageWriter()
  for (const e of entries) w.add(e.key, e.value)
  return w.take()
}

export function decodeEntries(body: Uint8Array): PageEntry[] {
  const entries = decodePage(body)
  if (!entries || entries.some((e) => e.value.length < HEADER_SIZE)) throw new BadRequest('malformed list of records to vacuum')
  return entries
}

export class Vacuum {
  constructor(private readonly node: DbNode, private readonly locks: {records: KeyedLocks; lmaster: KeyedLocks}) {}

  /** One pass over this node's volatile databases; resolves with the records removed cluster-wide. */
  async run(): Promise<number> {
    const n = this.node
    let removed = 0
    for (const db of [...n.dbs.values()]) {
      if (db.kind !== 'volatile' || n.halted) continue
      const gen = n.generation
      const byLmaster = new Map<number, PageEntry[]>()
      let taken = 0
      for (const key of db.emptyKeys.values()) {
        const value = db.getSync(key)
        if (!value || value.length !== HEADER_SIZE || dmasterOf(value) !== n.pnn) continue
        const l = n.lmaster(key)
        const list = byLmaster.get(l)
        if (list) list.push({key, value})
        else byLmaster.set(l, [{key, value}])
        if (++taken >= PASS_RECORDS) break
      }
      for (const [l, entries] of byLmaster) {
        try {
          if (l === n.pnn) removed += await this.atLocationMaster(db.name, gen, n.pnn, entries)
          else removed += Number((await n.call(l, {op: 'vacuum', db: db.name, kind: 'volatile', gen, from: n.pnn}, encodeEntries(entries), CALL_TIMEOUT_MS)).head.removed ?? 0)
        } catch (e) {
          n.log.debug({db: db.name, lmaster: l, err: (e as Error).message}, 'vacuuming stopped for now')
        }
      }
    }
    return removed
  }

  /** Steps 1–4 at the location master, for the empty records data master `from` found. */
  async atLocationMaster(name: string, gen: number, from: number, entries: PageEntry[]): Promise<number> {
    const n = this.node
    n.checkGeneration(gen)
    const db = n.db(name, VOLATILE)
    const unlocks: (() => void)[] = []
    try {
      let keys = entries.filter((e) => {
        if (n.lmaster(e.key) !== n.pnn) return false
        const unlock = this.locks.lmaster.tryAcquire(`${gen}\0${lockKey(name, e.key)}`)
        if (!unlock) return false
        unlocks.push(unlock)
        const mine = db.getSync(e.key)
        return !mine || (dmasterOf(mine) === from && rsnOf(mine) <= rsnOf(e.value))
      })
      if (from !== n.pnn) for (const e of keys) if (db.getSync(e.key)) db.put(e.key, e.value, true)
      for (const p of n.participants) {
        if (p === from || p === n.pnn || keys.length === 0) continue
        keys = await this.purgeAt(p, name, gen, keys, false)
      }
      if (keys.length === 0) return 0
      keys = await this.purgeAt(from, name, gen, keys, true)
      n.checkGeneration(gen)
      if (from !== n.pnn) for (const e of keys) if (db.getSync(e.key)) db.del(e.key)
      return keys.length
    } finally {
      for (const unlock of unlocks) unlock()
    }
  }

  /**
   * Drops this node's copies of `entries` (each key under its record lock, when free) and returns
   * the entries now absent here. `own`: this node is their data master and drops only an
   * unchanged empty record; otherwise a copy is dropped when it is not newer than the entry and
   * not this node's own.
   */
  purge(db: LocalDb, entries: PageEntry[], own: boolean): PageEntry[] {
    const n = this.node
    const done: PageEntry[] = []
    for (const e of entries) {
      const unlock = this.locks.records.tryAcquire(lockKey(db.name, e.key))
      if (!unlock) continue
      try {
        const v = db.getSync(e.key)
        const r = rsnOf(e.value)
        const droppable = !v ? false : own ? v.length === HEADER_SIZE && dmasterOf(v) === n.pnn && rsnOf(v) === r : dmasterOf(v) !== n.pnn && rsnOf(v) <= r
        if (droppable) db.del(e.key)
        if (!v || droppable) done.push(e)
      } finally {
        unlock()
      }
    }
    return done
  }

  private async purgeAt(p: number, name: string, gen: number, entries: PageEntry[], own: boolean): Promise<PageEntry[]> {
    const n = this.node
    if (p === n.pnn) {
      n.checkGeneration(gen)
      return this.purge(n.db(name, VOLATILE), entries, own)
    }
    const reply = await n.call(p, {op: 'purge', db: name, kind: 'volatile', gen, own}, encodeEntries(entries), CALL_TIMEOUT_MS)
    return decodeEntries(reply.body)
  }
}
