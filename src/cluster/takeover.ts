// Takeover runs, the pure part: from the config and the leader's view of the cluster, which
// node must release and take which public address, and whether the addresses the nodes really
// hold are consistent (core-spec §2.10, §8.5).
import type {ClusterConfig} from '../config/model.js'
import {allocateForCluster} from './ipalloc/index.js'
import {flagBits, INACTIVE_MASK, type ClusterState} from './state.js'

export interface TakeoverPlan {
  /** address → pnn (-1 = nobody). */
  assignment: Map<string, number>
  /** pnn → the addresses it must hold after the run. */
  holdings: Map<number, string[]>
}

/**
 * The allocation for a run. `state` must carry every node's flags, interfaces and the current
 * holders (publicAddresses). `overrides` pins addresses to nodes (`ip move`).
 */
export function planTakeover(config: ClusterConfig, state: ClusterState, overrides: ReadonlyMap<string, number> = new Map()): TakeoverPlan {
  const assignment = allocateForCluster(config, state)
  for (const [address, pnn] of overrides) if (assignment.has(address)) assignment.set(address, pnn)
  const holdings = new Map<number, string[]>()
  for (const n of config.nodes) if (!n.deleted) holdings.set(n.pnn, [])
  for (const [address, pnn] of assignment) if (pnn >= 0) holdings.get(pnn)?.push(address)
  return {assignment, holdings}
}

/** Whether node `pnn` may host `address` now (for `ip move`): allowed, active, healthy, enabled. */
export function canHost(config: ClusterConfig, state: ClusterState, address: string, pnn: number): string | undefined {
  const pa = config.publicAddresses.find((a) => a.address === address)
  if (!pa) return `${address} is not a public address of cluster ${config.name}`
  const node = config.nodes.find((n) => n.pnn === pnn)
  if (!node || node.deleted) return `node ${pnn} is not a node of cluster ${config.name}`
  if (pa.nodes && !pa.nodes.includes(pnn)) return `Node ${pnn} CANNOT host IP address ${address}`
  const flags = state.nodes.find((n) => n.pnn === pnn)?.flags ?? ['DISCONNECTED']
  if (flags.length > 0) return `node ${pnn} cannot host addresses now (${flags.join('|')})`
  return undefined
}

export interface Holder {
  pnn: number
  /** Addresses the node reports it actually holds. */
  held: readonly string[]
}

/**
 * CTDB's consistency check run by the leader: every public address held by exactly one active
 * node, that node being the one assigned. Returns the problems found (empty = consistent).
 */
export function checkConsistency(config: ClusterConfig, state: ClusterState, holders: readonly Holder[], assignment: ReadonlyMap<string, number>): string[] {
  const problems: string[] = []
  const active = new Set(state.nodes.filter((n) => (flagBits(n.flags) & INACTIVE_MASK) === 0).map((n) => n.pnn))
  const heldBy = new Map<string, number[]>()
  for (const h of holders) {
    if (!active.has(h.pnn)) continue
    for (const a of h.held) heldBy.set(a, [...(heldBy.get(a) ?? []), h.pnn])
  }
  for (const pa of config.publicAddresses) {
    const by = heldBy.get(pa.address) ?? []
    const want = assignment.get(pa.address) ?? -1
    if (by.length > 1) problems.push(`${pa.address} is held by nodes ${by.join(' and ')}`)
    else if (want >= 0 && by[0] !== want) problems.push(`${pa.address} should be on node ${want} but is ${by.length === 0 ? 'not held' : `on node ${by[0]}`}`)
    else if (want < 0 && by.length === 1) problems.push(`${pa.address} is unassigned but held by node ${by[0]}`)
  }
  return problems
}
