// One database on this node: a LevelDB directory (classic-level) of key → header+data values.
// Volatile and replicated databases are wiped when opened; persistent ones are kept.
import {createHash} from 'node:crypto'
import {mkdir, rm} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {ClassicLevel} from 'classic-level'
import type {DbKind} from './api.js'
import {dbId} from './hash.js'
import {PageWriter, SEQNUM_KEY, seqnumOf} from './record.js'

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

  private constructor(readonly name: string, readonly kind: DbKind, readonly path: string) {
    this.id = dbId(name)
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
    return this.level.get(key)
  }

  async put(key: Buffer, value: Buffer, existed: boolean): Promise<void> {
    await this.level.put(key, value)
    if (!existed) this.records++
  }

  async seqnum(): Promise<number> {
    return seqnumOf(await this.level.get(SEQNUM_KEY))
  }

  /** Writes every entry in one LevelDB batch (atomic). */
  async writeBatch(entries: {key: Buffer; value: Buffer | undefined}[]): Promise<void> {
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
    await this.level.clear()
    this.records = 0
    this.lastSeqnum = 0
  }

  /** Empties the database by recreating its directory: much faster than clear() for a big one. Only while frozen. */
  async reset(): Promise<void> {
    await this.level.close()
    await rm(this.path, {recursive: true, force: true})
    this.level = new ClassicLevel<Buffer, Buffer>(this.path, {keyEncoding: 'buffer', valueEncoding: 'buffer'})
    await this.level.open({createIfMissing: true})
    this.records = 0
    this.lastSeqnum = 0
  }

  async recount(): Promise<void> {
    let n = 0
    for await (const _k of this.level.keys()) n++
    this.records = n
  }

  /**
   * One page of records with keys after `after`, up to `maxBytes` (at least one record);
   * `filter` sees the raw value. `next` is the last key read, undefined at the end.
   */
  async page(after: Buffer | undefined, maxBytes: number, filter?: (value: Buffer) => boolean): Promise<{page: Buffer; count: number; next?: Buffer}> {
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
    const h = createHash('sha256')
    for await (const [k, v] of this.level.iterator()) {
      h.update(String(k.length)).update(k).update(String(v.length)).update(v)
    }
    return h.digest('hex')
  }

  async close(): Promise<void> {
    await this.level.close()
  }
}
