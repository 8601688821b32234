// Write-back buffer for a database's record puts: a put is visible to reads at once and reaches
// LevelDB in a batch shortly after, so storing a record costs no thread-pool round trip and
// many stores share one LevelDB batch. Only for volatile records, whose database is wiped when
// the daemon starts anyway: a daemon that dies loses its unwritten puts exactly as it loses the
// rest of its copy, and recovery takes every record from the surviving nodes.
//
// One batch is in flight at a time, so batches reach LevelDB in the order of their puts. Written
// records stay readable from memory up to a byte budget (the records a node just stored are the
// ones it is asked for next), so a fetch-lock of a hot record does not read LevelDB either.

export type BatchWriter = (ops: ({type: 'put'; key: Buffer; value: Buffer} | {type: 'del'; key: Buffer})[]) => Promise<void>

/** Puts are written after this long, or at once when this many are waiting. */
const FLUSH_DELAY_MS = 1
const FLUSH_COUNT = 1000
/** Bytes of written records kept for reads (keys and values), oldest dropped first. */
const CACHE_BYTES = 8 * 1024 * 1024

export class WriteBack {
  /** Newest unwritten value per key (latin1 string of the key); null: deleted. */
  private readonly unwritten = new Map<string, {key: Buffer; value: Buffer | null}>()
  /** Written records, same as in LevelDB, in the order they were written. */
  private readonly written = new Map<string, Buffer>()
  private writtenBytes = 0
  private timer?: NodeJS.Timeout
  private inFlight?: Promise<void>
  private failure?: Error

  constructor(private readonly write: BatchWriter) {}

  get size(): number {
    return this.unwritten.size
  }

  /** `null` deletes the record. */
  put(key: Buffer, value: Buffer | null): void {
    const k = key.toString('latin1')
    this.unwritten.set(k, {key, value})
    this.uncache(k)
    if (this.unwritten.size >= FLUSH_COUNT) this.flushSoon(0)
    else this.flushSoon(FLUSH_DELAY_MS)
  }

  /** The newest value of `key` when it is in memory (null: deleted); undefined: read LevelDB. */
  get(key: Buffer): Buffer | null | undefined {
    if (this.unwritten.size === 0 && this.written.size === 0) return undefined
    const k = key.toString('latin1')
    const unwritten = this.unwritten.get(k)
    return unwritten ? unwritten.value : this.written.get(k)
  }

  /** Drops everything, unwritten puts included: the database was replaced (a recovery's copy). */
  discard(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.unwritten.clear()
    this.failure = undefined
    this.forgetWritten()
  }

  /** Forgets the written records kept for reads: call when LevelDB is changed around put(). */
  forgetWritten(): void {
    this.written.clear()
    this.writtenBytes = 0
  }

  /** Resolves once every put so far is in LevelDB; rejects when a batch failed (the puts stay readable here). */
  async settled(): Promise<void> {
    while (this.unwritten.size > 0 || this.inFlight) {
      if (!this.inFlight) this.flush()
      await this.inFlight
      if (this.failure) throw this.failure
    }
  }

  private flushSoon(ms: number): void {
    if (this.inFlight) return // the batch's completion schedules the next one
    if (this.timer && ms > 0) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.flush(), ms)
  }

  private flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.inFlight || this.unwritten.size === 0) return
    const taken = [...this.unwritten.entries()]
    const ops = taken.map(([, e]) => (e.value ? {type: 'put' as const, key: e.key, value: e.value} : {type: 'del' as const, key: e.key}))
    this.inFlight = this.write(ops).then(
      () => {
        this.failure = undefined
        // A key stored again meanwhile keeps its newer value for the next batch.
        for (const [k, e] of taken) {
          if (this.unwritten.get(k) !== e) continue
          this.unwritten.delete(k)
          if (e.value) this.cache(k, e.value)
        }
      },
      (e: Error) => {
        this.failure = new Error(`writing ${ops.length} records to LevelDB failed: ${e.message}`)
      },
    )
    void this.inFlight.then(() => {
      this.inFlight = undefined
      if (this.unwritten.size > 0 && !this.failure) this.flushSoon(FLUSH_DELAY_MS)
    })
  }

  private cache(k: string, value: Buffer): void {
    this.written.set(k, value)
    this.writtenBytes += k.length + value.length
    for (const [old, v] of this.written) {
      if (this.writtenBytes <= CACHE_BYTES) break
      this.uncache(old, v)
    }
  }

  private uncache(k: string, value = this.written.get(k)): void {
    if (value === undefined) return
    this.written.delete(k)
    this.writtenBytes -= k.length + value.length
  }
}
