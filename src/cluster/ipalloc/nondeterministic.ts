// CTDB's non-deterministic allocation (ipalloc_nondeterministic.c): keep what can stay, give
// unassigned addresses to the least covered nodes, then even out coverage ("basic failback").
// Pure, no I/O. Cost: O(A·N) per failback move, at most A + 5 moves (A addresses, N nodes).

import {basicAllocateUnassigned, coverage, findTakeoverNode, unassignUnsuitable, type AllocState} from './common.js'

export function nondeterministic(s: AllocState): void {
  const numIps = s.numIps
  unassignUnsuitable(s)
  const cov = coverage(s)
  basicAllocateUnassigned(s, cov)
  if (s.noIPFailback) return
  basicFailback(s, cov, numIps)
}

/**
 * For each assigned entry (list order), among the nodes that can take it: when the most covered
 * node (first pnn reaching the max) has more than one address more than the least covered one,
 * re-place the first entry of the list owned by the most covered node and start over; at most
 * numIps + 5 such moves.
 */
function basicFailback(s: AllocState, cov: Int32Array, numIps: number): void {
  if (s.noIPTakeover) return // no node can take anything: every entry is skipped
  const {owner, host, numNodes} = s
  let retries = 0
  restart: for (;;) {
    for (let e = 0; e < s.numIps; e++) {
      if (owner[e] < 0) continue
      const row = e * numNodes
      let maxnode = -1
      let maxnum = 0
      let minnum = 0
      for (let n = 0; n < numNodes; n++) {
        if (host[row + n] !== 1) continue
        const num = cov[n]
        if (maxnode < 0) {
          maxnode = n
          maxnum = num
          minnum = num
        } else {
          if (num > maxnum) {
            maxnode = n
            maxnum = num
          }
          if (num < minnum) minnum = num
        }
      }
      if (maxnode < 0) continue
      if (maxnum > minnum + 1 && retries < numIps + 5) {
        for (let t = 0; t < s.numIps; t++) {
          if (owner[t] === maxnode) {
            findTakeoverNode(s, t, cov)
            retries++
            continue restart
          }
        }
      }
    }
    return
  }
}
