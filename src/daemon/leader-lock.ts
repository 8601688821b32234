// What the daemon needs from the cluster lock: keep trying to hold it while this node may lead.

export interface LeaderLock {
  /** Start (or keep) trying to take the lock; idempotent. */
  start(): void
  /** Release the lock or stop trying; idempotent. */
  stop(): Promise<void>
  readonly held: boolean
}
