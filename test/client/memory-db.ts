// A test double of the DatabaseApi contract (src/db/api.ts) for unit tests of the socket layer
// and the CLI: one node, records in a Map, per-record locks serialised in order. The real
// service is in src/db/.
import type {DatabaseApi, DbInfo, DbKind, FetchLockResult, OwnerId, RecordHeader, TraverseRecord} from '../../src/db/api.js'

interface Db {
  kind: DbKind
  seqnum: number
  records: Map<string, {header: RecordHeader; data: Buffer}>
}

export class MemoryDb implements DatabaseApi {
  readonly dbs = new Map<string, Db>()
  readonly closedOwners: string[] = []
  /** Set: every store fails with this message (the lock still ends). */
  failStores?: string
  private nextHandle = 1
  private readonly locks = new Map<string, Promise<void>>()
  private readonly handles = new Map<number, {owner: OwnerId; db: string; key: string; unlock: () => void}>()
  private readonly txs = new Map<number, {owner: OwnerId; db: string; writes: Map<string, Buffer | undefined>}>()

  list(): DbInfo[] {
    return [...this.dbs.keys()].map((n) => this.info(n))
  }

  async attach(name: string, kind: DbKind): Promise<DbInfo> {
    const d = this.dbs.get(name)
    if (d && d.kind !== kind) throw new Error(`database ${name} exists as ${d.kind}`)
    if (!d) this.dbs.set(name, {kind, seqnum: 0, records: new Map()})
    return this.info(name)
  }

  async fetch(db: string, key: Buffer) {
    const r = this.get(db).records.get(key.toString('hex'))
    return r ? {header: r.header, data: r.data} : {header: {rsn: 0, dmaster: 0, flags: 0}}
  }

  async fetchLock(owner: OwnerId, db: string, key: Buffer): Promise<FetchLockResult> {
    const d = this.get(db)
    const k = `${db}/${key.toString('hex')}`
    const before = this.locks.get(k) ?? Promise.resolve()
    let unlock!: () => void
    const mine = new Promise<void>((r) => (unlock = r))
    this.locks.set(k, before.then(() => mine))
    await before
    const handle = this.nextHandle++
    this.handles.set(handle, {owner, db, key: key.toString('hex'), unlock})
    const r = d.records.get(key.toString('hex'))
    return {handle, header: r?.header ?? {rsn: 0, dmaster: 0, flags: 0}, ...(r ? {data: r.data} : {})}
  }

  async store(owner: OwnerId, handle: number, data: Buffer, release = false): Promise<void> {
    const h = this.handle(owner, handle)
    if (this.failStores) {
      if (release) this.release(owner, handle)
      throw new Error(this.failStores)
    }
    const d = this.get(h.db)
    const old = d.records.get(h.key)
    d.records.set(h.key, {header: {rsn: (old?.header.rsn ?? 0) + 1, dmaster: 0, flags: 0}, data: Buffer.from(data)})
    if (release) this.release(owner, handle)
  }

  release(owner: OwnerId, handle: number): void {
    this.handle(owner, handle).unlock()
    this.handles.delete(handle)
  }

  async delete(db: string, key: Buffer): Promise<void> {
    this.get(db).records.delete(key.toString('hex'))
  }

  async *traverse(db: string): AsyncIterable<TraverseRecord> {
    for (const [k, r] of this.get(db).records) yield {key: Buffer.from(k, 'hex'), data: r.data, header: r.header}
  }

  async transactionStart(owner: OwnerId, db: string): Promise<number> {
    if (this.get(db).kind === 'volatile') throw new Error('transactions need a persistent or replicated database')
    const tx = this.nextHandle++
    this.txs.set(tx, {owner, db, writes: new Map()})
    return tx
  }

  async transactionGet(owner: OwnerId, tx: number, key: Buffer): Promise<Buffer | undefined> {
    const t = this.tx(owner, tx)
    const k = key.toString('hex')
    return t.writes.has(k) ? t.writes.get(k) : this.get(t.db).records.get(k)?.data
  }

  transactionPut(owner: OwnerId, tx: number, key: Buffer, data: Buffer): void {
    this.tx(owner, tx).writes.set(key.toString('hex'), Buffer.from(data))
  }

  transactionDelete(owner: OwnerId, tx: number, key: Buffer): void {
    this.tx(owner, tx).writes.set(key.toString('hex'), undefined)
  }

  async transactionCommit(owner: OwnerId, tx: number): Promise<{seqnum: number}> {
    const t = this.tx(owner, tx)
    const d = this.get(t.db)
    for (const [k, v] of t.writes) {
      if (v === undefined) d.records.delete(k)
      else d.records.set(k, {header: {rsn: (d.records.get(k)?.header.rsn ?? 0) + 1, dmaster: 0, flags: 0}, data: v})
    }
    this.txs.delete(tx)
    return {seqnum: ++d.seqnum}
  }

  transactionCancel(owner: OwnerId, tx: number): void {
    this.tx(owner, tx)
    this.txs.delete(tx)
  }

  async wipe(db: string): Promise<void> {
    this.get(db).records.clear()
  }

  closeOwner(owner: OwnerId): void {
    this.closedOwners.push(owner)
    for (const [handle, h] of this.handles) if (h.owner === owner) this.release(owner, handle)
    for (const [tx, t] of this.txs) if (t.owner === owner) this.txs.delete(tx)
  }

  private info(name: string): DbInfo {
    const d = this.get(name)
    return {id: 1, name, kind: d.kind, records: d.records.size, path: `/memory/${name}`, healthy: true, ...(d.kind === 'volatile' ? {} : {seqnum: d.seqnum})}
  }

  private get(name: string): Db {
    const d = this.dbs.get(name)
    if (!d) throw new Error(`no database named ${name}`)
    return d
  }

  private handle(owner: OwnerId, handle: number) {
    const h = this.handles.get(handle)
    if (!h || h.owner !== owner) throw new Error(`no record lock ${handle} held by this client`)
    return h
  }

  private tx(owner: OwnerId, tx: number) {
    const t = this.txs.get(tx)
    if (!t || t.owner !== owner) throw new Error(`no transaction ${tx} of this client`)
    return t
  }
}
