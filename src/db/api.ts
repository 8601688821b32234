// The contract between the client socket (src/daemon/client-socket/) and the node's database
// service (src/db/). The socket server translates frames into these calls; the service owns
// storage (classic-level), record migration, transactions and recovery.

export type DbKind = 'volatile' | 'persistent' | 'replicated'

/** CTDB's record header (core-spec §4.2), kept beside every stored value. */
export interface RecordHeader {
  /** Record sequence number (u64 in CTDB; a JS number is exact up to 2^53). */
  rsn: number
  /** PNN of the data master. */
  dmaster: number
  flags: number
}

export interface DbInfo {
  /** Jenkins hashlittle of the name including its trailing NUL, as CTDB. */
  id: number
  name: string
  kind: DbKind
  /** Persistent/replicated: __db_sequence_number__. */
  seqnum?: number
  /** Records held on this node. */
  records: number
  /** Where the LevelDB directory lives. */
  path: string
  healthy: boolean
  /** Reason when not healthy. */
  reason?: string
}

/** Whose locks and transactions these are: one client connection. Cleaned up by closeOwner. */
export type OwnerId = string

export interface FetchLockResult {
  /** Pass to store/release; valid until released or the owner closes. */
  handle: number
  header: RecordHeader
  /** undefined = no record (or an empty, deleted one). */
  data?: Buffer
}

export interface TraverseRecord {
  key: Buffer
  data: Buffer
  header: RecordHeader
}

export interface DatabaseApi {
  list(): DbInfo[]
  /** Attaches (creates cluster-wide when new). Attaching an existing name with another kind fails. */
  attach(name: string, kind: DbKind): Promise<DbInfo>
  /** Reads a record, migrating a volatile record here when another node is its data master. */
  fetch(db: string, key: Buffer): Promise<{header: RecordHeader; data?: Buffer}>
  /** Volatile only: migrates the record here and holds its per-record lock. Waits (not fails) during recovery. */
  fetchLock(owner: OwnerId, db: string, key: Buffer): Promise<FetchLockResult>
  /** Writes the locked record; with `release` the lock ends once it is written (also when the write fails). */
  store(owner: OwnerId, handle: number, data: Buffer, release?: boolean): Promise<void>
  release(owner: OwnerId, handle: number): void
  /** Volatile: fetchLock + store empty + release. Persistent/replicated: a one-record transaction. */
  delete(db: string, key: Buffer): Promise<void>
  /** The whole cluster's records (volatile: each node's records it is data master of). Streamed. */
  traverse(db: string): AsyncIterable<TraverseRecord>
  /** Persistent/replicated only; serialised cluster-wide per database. */
  transactionStart(owner: OwnerId, db: string): Promise<number>
  transactionGet(owner: OwnerId, tx: number, key: Buffer): Promise<Buffer | undefined>
  transactionPut(owner: OwnerId, tx: number, key: Buffer, data: Buffer): void
  transactionDelete(owner: OwnerId, tx: number, key: Buffer): void
  /** Applied on every active node atomically or not at all; resolves with the new database seqnum. */
  transactionCommit(owner: OwnerId, tx: number): Promise<{seqnum: number}>
  transactionCancel(owner: OwnerId, tx: number): void
  /** Empties the database on every node (ctdb wipedb). */
  wipe(db: string): Promise<void>
  /** Releases every lock and cancels every transaction of a closed client connection. */
  closeOwner(owner: OwnerId): void
}
