// Which nodes run a config revision and match it: the view behind `apply`'s progress and
// `drift`. Pure functions of state snapshots.
import type {ClusterState, NodeState} from '../cluster/state.js'

export type NodeProgress =
  | {pnn: number; name: string; status: 'converged'}
  | {pnn: number; name: string; status: 'pending'; revision: number}
  | {pnn: number; name: string; status: 'rejected'; error: string}
  | {pnn: number; name: string; status: 'missing'}

/** Nodes expected to converge: every node not deleted. */
export function expectedNodes(state: ClusterState): NodeState[] {
  return state.nodes.filter((n) => !n.flags.includes('DELETED'))
}

export function nodeProgress(node: NodeState, revision: number): NodeProgress {
  const name = node.name ?? `pnn ${node.pnn}`
  if (node.flags.includes('DISCONNECTED')) return {pnn: node.pnn, name, status: 'missing'}
  if ((node.configRevision ?? 0) >= revision && node.converged) return {pnn: node.pnn, name, status: 'converged'}
  if (node.configError && (node.rejectedRevision ?? 0) >= revision) return {pnn: node.pnn, name, status: 'rejected', error: node.configError}
  return {pnn: node.pnn, name, status: 'pending', revision: node.configRevision ?? 0}
}

export interface DriftEntry {
  pnn: number
  name: string
  problem: string
}

/** Nodes whose observed state differs from the applied revision, and how. */
export function findDrift(state: ClusterState, revision: number): DriftEntry[] {
  const out: DriftEntry[] = []
  for (const node of expectedNodes(state)) {
    const name = node.name ?? `pnn ${node.pnn}`
    if (node.flags.includes('DISCONNECTED')) out.push({pnn: node.pnn, name, problem: 'DISCONNECTED: its state is unknown'})
    else if (node.configError) out.push({pnn: node.pnn, name, problem: node.configError})
    else if ((node.configRevision ?? 0) !== revision) out.push({pnn: node.pnn, name, problem: `runs revision ${node.configRevision ?? 0}, the cluster has ${revision}`})
    else if (!node.converged) out.push({pnn: node.pnn, name, problem: `runs revision ${revision} but its host does not match it yet`})
  }
  return out
}
