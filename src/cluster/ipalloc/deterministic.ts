// CTDB's deterministic allocation (ipalloc_deterministic.c): entry i of the list goes to node
// i mod N (or its home node), then what cannot stay is re-placed on the least covered nodes.
// No failback phase. Pure, no I/O. Cost: O(A·N).

import {basicAllocateUnassigned, coverage, unassignUnsuitable, type AllocState} from './common.js'

export function deterministic(s: AllocState): void {
  const {owner, numNodes, home} = s
  for (let e = 0; e < s.numIps; e++) {
    const h = home ? home[e] : -1
    owner[e] = h >= 0 && h < numNodes ? h : e % numNodes
  }
  unassignUnsuitable(s)
  basicAllocateUnassigned(s, coverage(s))
}
