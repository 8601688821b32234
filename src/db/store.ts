// One database on this node: a LevelDB directory (classic-level) of key → header+data values.
// Volatile and replicated databases are wiped when opened; persistent ones are kept.
import {createHash} from 'node:crypto'
import {mkdir, rename, rm} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {ClassicLevel} from 'classic-level'
import type {DbKind} from './api.js'
import {dbId} from './hash.js'
import {HEADER_SIZE, PageWriter, SEQNUM_KEY, seqnumOf} from './record.js'
import {WriteBack} from './write-back.js'

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/

export function checkDbName(name: string): string | undefined {
  if (typeof name !== 'string' || !NAME.test(name)) return `invalid database name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (at most 128, not starting with '.' or '-')`
  return undefined
}

export const DB_KINDS: readonly DbKind[] = ['volatile', 'persistent', 'replicated']

export class LocalDb {
  readonly id: number
  private level: ClassicLevel<Buffer, Buffer>
  /** Records stored (empty ones included); maintained on writes, recounted after bulk changes. */
  records = 0
  /** Persistent/replicated: the sequence number, kept in step with writes. */
  lastSeqnum = 0
  /** Keys put() stored empty (deleted records) and not since stored again: what vacuuming looks at. */
  readonly emptyKeys = new Map<string, Buffer>()
  /** put()'s records on their way to LevelDB (always the current live copy). */
  private readonly writeBack = new WriteBack((ops) => this.level.batch(ops))
  /**
   * Recovery's replacement copy: a recovery's wipe starts it and its pushes fill it; it
   * replaces the live copy only at that recovery's thaw. Until then every pull still reads the
   * live copy, so a recovery that stops after its wipe (its master superseded, a node failing
   * mid-push) leaves the records in place for the next one.
   */
  private staging?: {gen: number; level: ClassicLevel<Buffer, Buffer>; records: number}
  private readonly stagingPath: string

  private constructor(readonly name: string, readonly kind: DbKind, readonly path: string) {
    this.id = dbId(name)
    this.stagingPath = join(dirname(dirname(path)), 'recovering', basename(path))
    // classic-level starts opening in its constructor: only construct once the directory is ready.
    this.level = new ClassicLevel<Buffer, Buffer>(path, {keyEncoding: 'buffer', valueEncoding: 'buffer'})
  }

  static async open(name: string, kind: DbKind, dir: string): Promise<LocalDb> {
    const path = join(dir, kind === 'persistent' ? 'persistent' : 'volatile', name)
    if (kind !== 'persistent') await rm(path, {recursive: true, force: true})
    await mkdir(dirname(path), {recursive: true})
    const db = new LocalDb(name, kind, path)
    await db.level.open({createIfMissing: true})
    if (kind === 'persistent') {
      await db.recount()
      db.lastSeqnum = await db.seqnum()
    }
    return db
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    const inMemory = this.writeBack.get(key)
    return inMemory === undefined ? this.level.get(key) : Promise.resolve(inMemory ?? undefined)
  }

  /**
   * Reads without a round trip through the libuv thread pool, blocking the event loop for the
   * read: for the fetch-lock hot path, whose volatile records are nearly always cached.
   */
  getSync(key: Buffer): Buffer | undefined {
    const inMemory = this.writeBack.get(key)
    return inMemory === undefined ? this.level.getSync(key) : (inMemory ?? undefined)
  }

  /**
   * Stores a volatile record: readable at once (get, getSync), written to LevelDB in a batch
   * shortly after (write-back.ts). Reads of many records (page, digest) and bulk changes wait
   * for the writes first.
   */
  put(key: Buffer, value: Buffer, existed: boolean): void {
    this.writeBack.put(key, value)
    if (!existed) this.records++
    if (value.length === HEADER_SIZE) this.emptyKeys.set(key.toString('latin1'), Buffer.from(key))
    else if (this.emptyKeys.size > 0) this.emptyKeys.delete(key.toString('latin1'))
  }

  /** Removes a volatile record (vacuuming), through the same write-back as put(). */
  del(key: Buffer): void {
    this.writeBack.put(key, null)
    this.records--
    this.emptyKeys.delete(key.toString('latin1'))
  }

  /** Resolves once every put so far is in LevelDB. */
  settled(): Promise<void> {
    return this.writeBack.settled()
  }

  async seqnum(): Promise<number> {
    return seqnumOf(await this.level.get(SEQNUM_KEY))
  }

  /** Writes every entry in one LevelDB batch (atomic). */
  async writeBatch(entries: {key: Buffer; value: Buffer | undefined}[]): Promise<void> {
    if (this.writeBack.size > 0) await this.settled()
    this.writeBack.forgetWritten()
    const batch = this.level.batch()
    for (const e of entries) {
      if (e.value) batch.put(e.key, e.value)
      else batch.del(e.key)
    }
    await batch.write()
    const seq = entries.find((e) => e.key.equals(SEQNUM_KEY))
    if (seq) this.lastSeqnum = seqnumOf(seq.value)
  }

  async clear(): Promise<void> {
    await this.settled()
    this.writeBack.forgetWritten()
    this.emptyKeys.clear()
    await this.level.clear()
    this.records = 0
    this.lastSeqnum = 0
  }

  /** Recovery generation `gen`'s wipe: starts an empty replacement copy (the live copy is untouched). Only while frozen. */
  async startReplacement(gen: number): Promise<void> {
    await this.dropReplacement()
    await mkdir(dirname(this.stagingPath), {recursive: true})
    const level = new ClassicLevel<Buffer, Buffer>(this.stagingPath, {keyEncoding: 'buffer', valueEncoding: 'buffer'})
    this.staging = {gen, level, records: 0}
    await level.open({createIfMissing: true})
  }

  /** Recovery generation `gen`'s push: writes into the replacement copy its wipe started. */
  async writeReplacement(gen: number, entries: {key: Buffer; value: Buffer}[]): Promise<void> {
    const staging = this.staging
    if (staging?.gen !== gen) throw new Error(`database ${this.name} was not wiped for recovery generation ${gen}`)
    const batch = staging.level.batch()
    for (const e of entries) batch.put(e.key, e.value)
    await batch.write()
    staging.records += entries.length
  }

  /** Forgets a replacement copy a recovery started and did not finish. */
  async dropReplacement(): Promise<void> {
    const staging = this.staging
    this.staging = undefined
    if (staging) await staging.level.close().catch(() => undefined)
    await rm(this.stagingPath, {recursive: true, force: true})
  }

  /** Recovery generation `gen`'s thaw: its replacement copy, when it started one, becomes the live copy. */
  async commitReplacement(gen: number): Promise<void> {
    const staging = this.staging
    if (!staging) return
    if (staging.gen !== gen) return this.dropReplacement()
    this.staging = undefined
    await staging.level.close()
    // Puts since the freeze belong to the copy being replaced: write them there, then drop it.
    await this.settled().catch(() => undefined)
    await this.level.close()
    await rm(this.path, {recursive: true, force: true})
    await rename(this.stagingPath, this.path)
    this.level = new ClassicLevel<Buffer, Buffer>(this.path, {keyEncoding: 'buffer', valueEncoding: 'buffer'})
    await this.level.open({createIfMissing: true})
    this.writeBack.discard()
    this.emptyKeys.clear() // a recovery pushes no deleted records
    this.records = staging.records // each key is pushed once
    this.lastSeqnum = this.kind === 'volatile' ? 0 : await this.seqnum()
  }

  async recount(): Promise<void> {
    await this.settled()
    let n = 0
    for await (const _k of this.level.keys()) n++
    this.records = n
  }

  /**
   * One page of records with keys after `after`, up to `maxBytes` (at least one record);
   * `filter` sees the raw value. `next` is the last key read, undefined at the end.
   */
  async page(after: Buffer | undefined, maxBytes: number, filter?: (value: Buffer) => boolean): Promise<{page: Buffer; count: number; next?: Buffer}> {
    await this.settled()
    const it = this.level.iterator(after ? {gt: after} : {})
    const w = new PageWriter()
    let last: Buffer | undefined
    try {
      for (;;) {
        const batch = await it.nextv(1000)
        if (batch.length === 0) return finish(undefined)
        for (const [k, v] of batch) {
          last = k
          if (!filter || filter(v)) w.add(k, v)
          if (w.bytes >= maxBytes) return finish(last)
        }
      }
    } finally {
      await it.close()
    }
    function finish(next: Buffer | undefined) {
      const count = w.count
      return {page: w.take(), count, ...(next ? {next} : {})}
    }
  }

  /** sha256 of every key and value in key order: nodes holding the same copy agree on it. */
  async digest(): Promise<string> {
    await this.settled()
    const h = createHash('sha256')
    for await (const [k, v] of this.level.iterator()) {
      h.update(String(k.length)).update(k).update(String(v.length)).update(v)
    }
    return h.digest('hex')
  }

  async close(): Promise<void> {
    await this.settled().catch(() => undefined)
    await this.staging?.level.close().catch(() => undefined)
    this.staging = undefined
    await this.level.close()
  }
}
