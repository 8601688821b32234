// What a config change does to clients (issue 4): the IP allocation and the NAT gateway / LVS
// leaders computed for the old and for the new config from the same cluster state, and their
// differences. Pure.

import type {ClusterConfig, NodeConfig} from '../../config/model.js'
import {allocateForCluster} from '../ipalloc/index.js'
import {lvsRoles} from '../lvs.js'
import {natgwRoles} from '../natgw.js'
import type {ClusterState, NodeState} from '../state.js'

export interface NodeRef {
  pnn: number
  name: string
}

export type AddressEffect = 'moves' | 'unassigned' | 'assigned' | 'added' | 'removed'

export interface AddressConsequence {
  address: string
  /**
   * moves: held by `from` before and by `to` after; unassigned: nobody will hold it; assigned:
   * nobody held it and `to` will; added: new address (`to` null when nobody can host it);
   * removed: address leaves the config (`from` null when nobody held it).
   */
  effect: AddressEffect
  from: NodeRef | null
  to: NodeRef | null
}

export interface LeaderChange {
  group: 'natgw' | 'lvs'
  name: string
  /** added / removed: the group itself comes or goes. */
  groupChange?: 'added' | 'removed'
  from: NodeRef | null
  to: NodeRef | null
}

export interface NodeLoad {
  node: NodeRef
  before: number
  after: number
}

export interface Consequences {
  /** false: no state was given and the one described in `notes` was assumed. */
  stateGiven: boolean
  /** Assumptions made, one sentence each. */
  notes: string[]
  /** Things to do or check before applying, one sentence each. */
  warnings: string[]
  /** Every address whose holder differs between the two allocations, in address order. */
  addresses: AddressConsequence[]
  leaders: LeaderChange[]
  /** Nodes that hold at least one address with the old config and none with the new one. */
  nodesLosingAll: NodeRef[]
  /** Nodes whose number of addresses changes, pnn order. */
  load: NodeLoad[]
}

/** allocateForCluster's contract: address (canonical) → pnn, -1 for nobody. */
export type Allocator = (config: ClusterConfig, state: ClusterState) => Map<string, number>

export interface ConsequenceOptions {
  /** The cluster state; absent: every non-deleted node healthy, no address held. */
  state?: ClusterState
  /** Defaults to the IP allocation engine (src/cluster/ipalloc). */
  allocate?: Allocator
}

const EMPTY_CONFIG_NODES: readonly NodeConfig[] = []

/**
 * Consequences of going from `base` (null: empty cluster) to `next`.
 *
 * - With a state, both allocations start from the state's holders and flags. Nodes the new config
 *   adds that the state does not know are assumed to join healthy (the state would otherwise
 *   count them DISCONNECTED and the plan could never show addresses moving onto them).
 * - Without a state, every non-deleted node of either config is assumed healthy and nobody
 *   holds anything: the old allocation is computed from scratch and the new one starts from its
 *   result (the cluster as it would be after converging on the old config), so that only the
 *   change's own effects are listed.
 */
export function computeConsequences(base: ClusterConfig | null, next: ClusterConfig, options: ConsequenceOptions = {}): Consequences {
  const allocate = options.allocate ?? ((c, s) => allocateForCluster(c, s))
  const notes: string[] = []
  const warnings: string[] = []
  const oldNodes = base?.nodes ?? EMPTY_CONFIG_NODES
  const names = new Map<number, string>()
  for (const n of oldNodes) names.set(n.pnn, n.name)
  for (const n of next.nodes) names.set(n.pnn, n.name)
  const ref = (pnn: number): NodeRef | null => (pnn < 0 ? null : {pnn, name: names.get(pnn) ?? `pnn ${pnn}`})
  const oldPnns = new Set(oldNodes.map((n) => n.pnn))

  let oldState: ClusterState
  let newState: ClusterState
  if (options.state) {
    const state = options.state
    oldState = state
    const known = new Set(state.nodes.map((n) => n.pnn))
    const joining = next.nodes.filter((n) => !n.deleted && !oldPnns.has(n.pnn) && !known.has(n.pnn))
    newState = {...state, nodes: [...state.nodes, ...joining.map((n): NodeState => ({pnn: n.pnn, name: n.name, address: n.address, flags: []}))]}
    if (joining.length > 0) {
      notes.push(`Assumed ${list(joining.map((n) => n.name))}, unknown to the state, ${joining.length === 1 ? 'joins' : 'join'} healthy.`)
    }
    for (const n of next.nodes) {
      const before = oldNodes.find((o) => o.pnn === n.pnn)
      if (!n.deleted || !before || before.deleted) continue
      const observed = state.nodes.find((s) => s.pnn === n.pnn)
      if (observed && !observed.flags.includes('DISCONNECTED') && !observed.flags.includes('DELETED')) {
        warnings.push(`${n.name} (pnn ${n.pnn}) is marked deleted but is still connected: shut it down before applying.`)
      }
    }
  } else {
    const healthy = new Map<number, NodeConfig>()
    for (const n of [...oldNodes, ...next.nodes]) if (!n.deleted) healthy.set(n.pnn, n)
    oldState = {
      cluster: base?.name ?? next.name,
      nodes: [...healthy.values()].sort((a, b) => a.pnn - b.pnn).map((n) => ({pnn: n.pnn, flags: []})),
      publicAddresses: [],
    }
    notes.push('Assumed every node that is not deleted healthy, holding the addresses where the old config puts them.')
    newState = oldState // replaced below, once the old allocation is known
  }

  const emptyAllocation = new Map<string, number>()
  const before = base ? allocate(base, oldState) : emptyAllocation
  if (!options.state) {
    newState = {...oldState, publicAddresses: [...before].filter(([, pnn]) => pnn >= 0).map(([address, pnn]) => ({address, pnn}))}
  }
  const after = allocate(next, newState)

  // Addresses.
  const addresses: AddressConsequence[] = []
  for (const [address, to] of after) {
    const from = before.get(address)
    if (from === undefined) addresses.push({address, effect: 'added', from: null, to: ref(to)})
    else if (from === to) continue
    else if (to < 0) addresses.push({address, effect: 'unassigned', from: ref(from), to: null})
    else if (from < 0) addresses.push({address, effect: 'assigned', from: null, to: ref(to)})
    else addresses.push({address, effect: 'moves', from: ref(from), to: ref(to)})
  }
  for (const [address, from] of before) {
    if (!after.has(address)) addresses.push({address, effect: 'removed', from: ref(from), to: null})
  }
  addresses.sort((a, b) => compareAddresses(a.address, b.address))

  // Load per node.
  const count = (alloc: Map<string, number>) => {
    const m = new Map<number, number>()
    for (const pnn of alloc.values()) if (pnn >= 0) m.set(pnn, (m.get(pnn) ?? 0) + 1)
    return m
  }
  const beforeCount = count(before)
  const afterCount = count(after)
  const load: NodeLoad[] = []
  const nodesLosingAll: NodeRef[] = []
  for (const pnn of [...names.keys()].sort((a, b) => a - b)) {
    const b = beforeCount.get(pnn) ?? 0
    const a = afterCount.get(pnn) ?? 0
    if (a !== b) load.push({node: ref(pnn)!, before: b, after: a})
    if (b > 0 && a === 0) nodesLosingAll.push(ref(pnn)!)
  }

  // Leaders.
  const leaders: LeaderChange[] = []
  const groupLeaders = (
    kind: 'natgw' | 'lvs',
    oldGroups: readonly {name: string}[],
    newGroups: readonly {name: string}[],
    leaderOf: (config: ClusterConfig, state: ClusterState, name: string) => number,
  ) => {
    for (const g of newGroups) {
      const was = oldGroups.some((o) => o.name === g.name) ? leaderOf(base!, oldState, g.name) : undefined
      const will = leaderOf(next, newState, g.name)
      if (was === undefined) leaders.push({group: kind, name: g.name, groupChange: 'added', from: null, to: ref(will)})
      else if (was !== will) leaders.push({group: kind, name: g.name, from: ref(was), to: ref(will)})
    }
    for (const g of oldGroups) {
      if (!newGroups.some((n) => n.name === g.name)) {
        leaders.push({group: kind, name: g.name, groupChange: 'removed', from: ref(leaderOf(base!, oldState, g.name)), to: null})
      }
    }
  }
  groupLeaders('natgw', base?.natgw ?? [], next.natgw, (c, s, name) => natgwRoles(c.natgw.find((g) => g.name === name)!, c.nodes, s).leader?.pnn ?? -1)
  groupLeaders('lvs', base?.lvs ?? [], next.lvs, (c, s, name) => lvsRoles(c.lvs.find((g) => g.name === name)!, c.nodes, s).leader?.pnn ?? -1)

  return {stateGiven: options.state !== undefined, notes, warnings, addresses, leaders, nodesLosingAll, load}
}

function list(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

/** IPv4 before IPv6, then numeric order. */
export function compareAddresses(a: string, b: string): number {
  const ka = sortKey(a)
  const kb = sortKey(b)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

function sortKey(address: string): string {
  if (!address.includes(':')) return '4' + address.split('.').map((p) => p.padStart(3, '0')).join('.')
  const [head, tail = ''] = address.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === '' ? [] : tail.split(':')
  const groups = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h
  return '6' + groups.map((g) => g.padStart(4, '0')).join(':')
}
