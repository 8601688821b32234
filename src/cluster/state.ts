// The cluster state snapshot (DESIGN.md §4): one format for live and simulated state.

export const NODE_FLAG_NAMES = ['DISCONNECTED', 'UNHEALTHY', 'DISABLED', 'BANNED', 'DELETED', 'STOPPED'] as const
export type NodeFlag = (typeof NODE_FLAG_NAMES)[number]

/** CTDB's wire values (protocol.h). */
export const NODE_FLAG_BITS: Record<NodeFlag, number> = {
  DISCONNECTED: 0x01,
  UNHEALTHY: 0x02,
  DISABLED: 0x04,
  BANNED: 0x08,
  DELETED: 0x10,
  STOPPED: 0x20,
}

/** DISCONNECTED | BANNED | DELETED | STOPPED */
export const INACTIVE_MASK = 0x39

export interface NodeState {
  pnn: number
  name?: string
  address?: string
  flags: NodeFlag[]
  /** Link state of the node's public interfaces, when known. */
  interfaces?: Record<string, 'up' | 'down'>
  /** Revision of the applied config the node runs (live clusters). */
  configRevision?: number
  /** The node's observed state matches its config revision. */
  converged?: boolean
  /** Why the node refused the newest config revision. */
  configError?: string
  /** The revision it refused. */
  rejectedRevision?: number
}

export interface PublicAddressState {
  address: string
  /** pnn holding it, -1 when nobody does. */
  pnn: number
}

export interface TakeoverRunRecord {
  run: number
  reason: string
  startedAt: string
  durationMs: number
  ok: boolean
  error?: string
}

/** A database recovery (recorded by the recovery code when it runs; absent until then). */
export interface RecoveryRecord {
  startedAt: string
  durationMs: number
  ok: boolean
  error?: string
}

export interface ClusterState {
  cluster: string
  configRevision?: number
  generation?: number
  /** pnn of the leader, -1 or absent when there is none. */
  leader?: number
  /** The node this snapshot was taken from (printed as "(THIS NODE)"). */
  thisNode?: number
  nodes: NodeState[]
  publicAddresses: PublicAddressState[]
  /** The last takeover run this node led (live clusters, leader only). */
  lastTakeoverRun?: TakeoverRunRecord
  /** The last database recovery the leader ran (live clusters, when databases are recovered). */
  lastRecovery?: RecoveryRecord
}

export function flagBits(flags: readonly NodeFlag[]): number {
  let bits = 0
  for (const f of flags) bits |= NODE_FLAG_BITS[f]
  return bits
}

/**
 * Flags of a pnn as the snapshot reports them; a node absent from the snapshot is DISCONNECTED
 * (DESIGN.md §4).
 */
export function nodeFlagBits(state: ClusterState, pnn: number): number {
  const node = state.nodes.find((n) => n.pnn === pnn)
  return node ? flagBits(node.flags) : NODE_FLAG_BITS.DISCONNECTED
}
