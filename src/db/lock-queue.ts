// Per-record exclusive locks, node-local, FIFO: contended lockers wait in a queue and never
// block the event loop.

export class KeyedLocks {
  private readonly waiting = new Map<string, (() => void)[]>()

  /** Resolves when the caller holds the lock for `key`; call the returned function to release it. */
  acquire(key: string): Promise<() => void> | (() => void) {
    const queue = this.waiting.get(key)
    if (!queue) {
      this.waiting.set(key, [])
      return this.releaser(key)
    }
    return new Promise((resolve) => queue.push(() => resolve(this.releaser(key))))
  }

  /** The lock when it is free, undefined (without waiting) when it is held. */
  tryAcquire(key: string): (() => void) | undefined {
    if (this.waiting.has(key)) return undefined
    this.waiting.set(key, [])
    return this.releaser(key)
  }

  /** Some lock whose key starts with `prefix` is held. */
  heldWithPrefix(prefix: string): boolean {
    for (const k of this.waiting.keys()) if (k.startsWith(prefix)) return true
    return false
  }

  get size(): number {
    return this.waiting.size
  }

  private releaser(key: string): () => void {
    let done = false
    return () => {
      if (done) return
      done = true
      const queue = this.waiting.get(key)!
      const next = queue.shift()
      if (next) next()
      else this.waiting.delete(key)
    }
  }
}
