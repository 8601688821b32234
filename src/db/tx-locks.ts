// The cluster-wide transaction lock of each persistent/replicated database, kept by the
// recovery master (CTDB takes a g_lock per database, core-spec §4.6). FIFO per database; a
// holder that neither commits nor cancels within the lease loses the lock; waiters that wait
// longer than the requester's patience are told to retry. As CTDB's g_lock records, locks
// survive a recovery run by the same recovery master; holders on nodes that left lose them.

interface Waiter {
  token: string
  since: number
  grant: (granted: boolean) => void
}

interface Entry {
  holder?: {token: string; expires: number}
  queue: Waiter[]
}

export class TxLockTable {
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly leaseMs: number, private readonly maxWaitMs: number, private readonly now: () => number = () => performance.now()) {}

  /** Calls `grant(true)` when `token` holds the lock of `db`, `grant(false)` when it should ask again. */
  acquire(db: string, token: string, grant: (granted: boolean) => void): void {
    const e = this.entry(db)
    this.expire(db, e)
    if (!e.holder) {
      e.holder = {token, expires: this.now() + this.leaseMs}
      grant(true)
      return
    }
    if (e.holder.token === token) {
      grant(true)
      return
    }
    e.queue.push({token, since: this.now(), grant})
  }

  release(db: string, token: string): void {
    const e = this.entries.get(db)
    if (!e) return
    if (e.holder?.token === token) {
      e.holder = undefined
      this.next(db, e)
    } else {
      e.queue = e.queue.filter((w) => w.token !== token)
    }
  }

  holder(db: string): string | undefined {
    return this.entries.get(db)?.holder?.token
  }

  /** Expires leases and tells long waiters to retry; call periodically. */
  sweep(): void {
    for (const [db, e] of this.entries) this.expire(db, e)
  }

  /** A freeze: every waiter is told to retry (in the next generation); holders keep their locks. */
  retryWaiters(): void {
    for (const e of this.entries.values()) for (const w of e.queue.splice(0)) w.grant(false)
  }

  /** After a recovery: holders for which `gone` is true lose their locks. */
  dropHolders(gone: (token: string) => boolean): void {
    for (const [db, e] of this.entries) {
      if (e.holder && gone(e.holder.token)) {
        e.holder = undefined
        this.next(db, e)
      }
    }
  }

  /** Another node became the recovery master: this table is void. */
  clear(): void {
    this.retryWaiters()
    this.entries.clear()
  }

  private expire(db: string, e: Entry): void {
    const now = this.now()
    const stale = e.queue.filter((w) => now - w.since > this.maxWaitMs)
    if (stale.length > 0) {
      e.queue = e.queue.filter((w) => now - w.since <= this.maxWaitMs)
      for (const w of stale) w.grant(false)
    }
    if (e.holder && e.holder.expires <= now) {
      e.holder = undefined
      this.next(db, e)
    }
  }

  private next(db: string, e: Entry): void {
    const w = e.queue.shift()
    if (w) {
      e.holder = {token: w.token, expires: this.now() + this.leaseMs}
      w.grant(true)
    } else if (!e.holder) {
      this.entries.delete(db)
    }
  }

  private entry(db: string): Entry {
    let e = this.entries.get(db)
    if (!e) this.entries.set(db, (e = {queue: []}))
    return e
  }
}
