// State shared by the three allocation algorithms and CTDB's basic steps (ipalloc_common.c):
// "can host", "can take", unassign unsuitable, basic allocation of unassigned addresses.
// Pure, no I/O.

/**
 * The merged address list, already in CTDB's order (descending 128-bit key). Entry e's key is
 * keys[4e .. 4e+3]; host[e * numNodes + n] is 1 when node n can host entry e (the address is
 * available on n). The algorithms change `owner` in place.
 */
export interface AllocState {
  numNodes: number
  numIps: number
  keys: Uint32Array
  /** Owner per entry, -1 = unassigned. */
  owner: Int32Array
  host: Uint8Array
  noIPTakeover: boolean
  noIPFailback: boolean
  /** Deterministic only: home pnn per entry, -1 = none. */
  home?: Int32Array
  /** LCP2 only: nodes that are rebalance candidates even though they hold addresses. */
  forceRebalance?: readonly number[]
}

export function canHost(s: AllocState, n: number, e: number): boolean {
  return s.host[e * s.numNodes + n] === 1
}

export function canTake(s: AllocState, n: number, e: number): boolean {
  return !s.noIPTakeover && s.host[e * s.numNodes + n] === 1
}

/** Every entry whose owner cannot host it becomes unassigned. */
export function unassignUnsuitable(s: AllocState): void {
  const {owner, host, numNodes} = s
  for (let e = 0; e < s.numIps; e++) {
    const o = owner[e]
    if (o >= 0 && host[e * numNodes + o] !== 1) owner[e] = -1
  }
}

/** Number of entries owned by each node. */
export function coverage(s: AllocState): Int32Array {
  const cov = new Int32Array(s.numNodes)
  for (let e = 0; e < s.numIps; e++) if (s.owner[e] >= 0) cov[s.owner[e]]++
  return cov
}

/**
 * CTDB's find_takeover_node(): gives entry e to the node with the smallest coverage among those
 * that can take it (first pnn on ties); coverage still counts e on its current owner. Leaves e
 * alone and returns -1 when no node can take it.
 */
export function findTakeoverNode(s: AllocState, e: number, cov: Int32Array): number {
  if (s.noIPTakeover) return -1
  const {host, numNodes} = s
  const row = e * numNodes
  let pnn = -1
  let min = 0
  for (let n = 0; n < numNodes; n++) {
    if (host[row + n] !== 1) continue
    const num = cov[n]
    if (pnn < 0 || num < min) {
      pnn = n
      min = num
    }
  }
  if (pnn < 0) return -1
  const old = s.owner[e]
  if (old >= 0) cov[old]--
  cov[pnn]++
  s.owner[e] = pnn
  return pnn
}

/** CTDB's basic_allocate_unassigned(): each unassigned entry, in list order, to the least covered node. */
export function basicAllocateUnassigned(s: AllocState, cov: Int32Array): void {
  for (let e = 0; e < s.numIps; e++) {
    if (s.owner[e] < 0) findTakeoverNode(s, e, cov)
  }
}
