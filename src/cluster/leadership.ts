// Who may lead, and CTDB's election without a cluster lock (core-spec §2.3, §2.5).
import {INACTIVE_MASK} from './state.js'

/** A node can lead iff it has the leader capability and no INACTIVE flag. */
export function canLead(flagBits: number, leaderCapability: boolean): boolean {
  return leaderCapability && (flagBits & INACTIVE_MASK) === 0
}

export interface ElectionCandidate {
  pnn: number
  canLead: boolean
  /** How long the candidate's daemon has been running (CTDB's priority_time, inverted). */
  uptimeMs: number
}

/**
 * Election without a lock: the longest-running candidate that can lead wins, the higher pnn on
 * equal uptime (CTDB compares priority times, then pnns). Unsafe under partitions: each side
 * elects its own leader.
 */
export function electWithoutLock(candidates: readonly ElectionCandidate[]): number {
  let best: ElectionCandidate | undefined
  for (const c of candidates) {
    if (!c.canLead) continue
    if (!best || c.uptimeMs > best.uptimeMs || (c.uptimeMs === best.uptimeMs && c.pnn > best.pnn)) best = c
  }
  return best?.pnn ?? -1
}

export interface Claimant {
  pnn: number
  uptimeMs: number
}

function beats(a: Claimant, b: Claimant): boolean {
  return a.uptimeMs > b.uptimeMs || (a.uptimeMs === b.uptimeMs && a.pnn > b.pnn)
}

/**
 * One step of the lockless election, decided by each node from its own view: a node keeps
 * leading while no connected claimant beats it; with no claimant at all, the winner of
 * electWithoutLock claims. Returns whether `self` should claim leadership and who it sees
 * as leader. Sticky, so a restarted node does not displace a running leader.
 */
export function decideWithoutLock(
  self: ElectionCandidate & {claiming: boolean},
  peers: readonly (ElectionCandidate & {claiming: boolean})[],
): {claim: boolean; leader: number} {
  const claimants = peers.filter((p) => p.claiming && p.canLead)
  const bestClaimant = claimants.reduce<Claimant | undefined>((best, c) => (!best || beats(c, best) ? c : best), undefined)
  let claim = false
  if (self.canLead) {
    if (self.claiming) claim = !bestClaimant || beats(self, bestClaimant)
    else claim = !bestClaimant && electWithoutLock([self, ...peers]) === self.pnn
  }
  return {claim, leader: claim ? self.pnn : (bestClaimant?.pnn ?? -1)}
}
