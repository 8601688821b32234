// Banning credits of recovery culprits (CTDB's culprit counting, core-spec §2.11): a node blamed
// BAN_CREDITS times without a quiet gap of RecoveryGracePeriod (120 s) is to be banned.

/** We exclude a failing node and finish the recovery without it, so fewer credits than CTDB's 2 × nodes suffice. */
export const BAN_CREDITS = 3
export const CREDIT_GRACE_MS = 120_000

export class BanningCredits {
  private readonly credits = new Map<number, {count: number; lastAt: number}>()

  constructor(
    private readonly limit = BAN_CREDITS,
    private readonly graceMs = CREDIT_GRACE_MS,
  ) {}

  /** Adds one credit at monotonic time `now` (ms); true when the node is due for a ban (its count then restarts). */
  blame(pnn: number, now: number): boolean {
    const last = this.credits.get(pnn)
    const count = last && now - last.lastAt < this.graceMs ? last.count + 1 : 1
    if (count >= this.limit) {
      this.credits.delete(pnn)
      return true
    }
    this.credits.set(pnn, {count, lastAt: now})
    return false
  }
}
