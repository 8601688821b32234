// CTDB's LCP2 allocation (ipalloc_lcp2.c), same answers, incremental bookkeeping.
// Pure, no I/O.
//
// CTDB recomputes dsum(ip, node) — Σ distance² between ip and the node's other addresses — by
// scanning the whole list for every candidate (ip, node), which makes each unassigned round
// O(A²·N) and each failback step O(A²·N). Here:
//
//   D[e·N + n] = dsum(e, n) for every entry e and node n   (Uint32Array, A·N words)
//   imb[n]     = imbalance of node n                      (Uint32Array, N words)
//
// are kept up to date. Giving entry x to node m adds distance²(e, x) to D[e·N + m] for every
// e ≠ x (O(A), four clz32 per pair, no distance matrix); a failback move is a remove plus an add.
// The unassigned phase keeps, per unassigned entry, a tournament tree of the nodes by dsum (first
// pnn on ties), so an assignment to m costs O(log N) per remaining entry instead of a rescan.
//
// With A addresses, N nodes, C rebalance candidates:
//   initialisation        O(A·H) distance evaluations, H = addresses assigned at the start
//   unassigned phase      O(A + U·log N) per assignment, U = addresses still unassigned
//   failback, per attempt O(A + owned(src)·C) to find the best move (entries that provably cannot
//                         beat the best move of src's costliest entry are skipped), O(A) to apply
//                         it, O(N log N) to re-sort the nodes
// Memory O(A·N). CTDB's cost is O(U·A·N) per assignment and O(owned(src)·C·A) per attempt.
// Measured (bench/ipalloc.js): 64 nodes × 4096 addresses in about a second.
//
// All dsum / imbalance arithmetic is unsigned 32-bit and wraps like CTDB's uint32_t: values live
// in Uint32Arrays (a store reduces modulo 2³²) and temporaries are reduced with `>>> 0`. Sums of
// wrapped terms are order-independent modulo 2³², so incremental maintenance gives CTDB's values.

import {unassignUnsuitable, type AllocState} from './common.js'

export function lcp2(s: AllocState): void {
  unassignUnsuitable(s)
  // NoIPTakeover: no node can take any address, so neither phase can change anything.
  if (s.noIPTakeover) return
  const N = s.numNodes
  const A = s.numIps
  const {owner, keys} = s
  if (A === 0 || N === 0) return

  const D = new Uint32Array(A * N)
  const imb = new Uint32Array(N)

  // Distance² from entry x to every other entry, added to (sign = 1) or removed from (sign = -1)
  // column n of D. Keys are 4 words (KEY_WORDS) per entry.
  const shift = (x: number, n: number, sign: number): void => {
    const xa = x * 4
    const k0 = keys[xa]
    const k1 = keys[xa + 1]
    const k2 = keys[xa + 2]
    const k3 = keys[xa + 3]
    for (let e = 0, ka = 0, i = n; e < A; e++, ka += 4, i += N) {
      if (e === x) continue
      const d = Math.clz32(k0 ^ keys[ka]) + Math.clz32(k1 ^ keys[ka + 1]) + Math.clz32(k2 ^ keys[ka + 2]) + Math.clz32(k3 ^ keys[ka + 3])
      D[i] += sign * d * d
    }
  }

  // Initial dsums and imbalances (lcp2_init) from the owners left after unassigning. Adding the
  // owned entries one by one, D[x][o] just before x's own shift is the sum over the pairs of x with
  // the entries of o added before it, so every pair of o counts once in imb[o].
  const candidate = new Uint8Array(N).fill(1)
  for (let x = 0; x < A; x++) {
    const o = owner[x]
    if (o < 0) continue
    candidate[o] = 0
    imb[o] += D[x * N + o]
    shift(x, o, 1)
  }
  for (const p of s.forceRebalance ?? []) if (p >= 0 && p < N) candidate[p] = 1

  allocateUnassigned(s, D, imb, shift)

  if (s.noIPFailback) return
  const candidates: number[] = []
  for (let n = 0; n < N; n++) if (candidate[n]) candidates.push(n)
  if (candidates.length === 0) return
  failback(s, D, imb, Int32Array.from(candidates), shift)
}

type Shift = (x: number, n: number, sign: number) => void

/**
 * lcp2_allocate_unassigned(): repeatedly give the (unassigned entry, node that can take it) with
 * the smallest dsum — first entry in list order, then first pnn, on ties — to that node.
 *
 * Each unassigned entry keeps a tournament tree over the nodes (P = N rounded up to a power of
 * two; each internal node holds the winning pnn of its subtree, -1 when no node there can take the
 * entry; the winner has the smallest dsum, then the smallest pnn). Giving an address to node m
 * changes one leaf of every tree: O(log N) per entry and round, in the same pass that finds the
 * next choice.
 */
function allocateUnassigned(s: AllocState, D: Uint32Array, imb: Uint32Array, shift: Shift): void {
  const N = s.numNodes
  const A = s.numIps
  const {owner, host} = s
  const un = new Int32Array(A)
  let u = 0
  for (let e = 0; e < A; e++) if (owner[e] < 0) un[u++] = e
  if (u === 0) return

  // Tree of slot k at tree[k·T …]: root 1, internal nodes 1 … P-1, leaf of pnn n at P + n (fixed:
  // n, or -1 when n cannot take the entry or n >= N).
  let P = 1
  while (P < N) P *= 2
  const T = 2 * P
  const slot = new Int32Array(A)
  const tree = new Int32Array(u * T)
  for (let k = 0; k < u; k++) {
    const e = un[k]
    slot[e] = k
    const row = e * N
    const base = k * T
    for (let n = 0; n < P; n++) tree[base + P + n] = n < N && host[row + n] === 1 ? n : -1
    for (let i = P - 1; i >= 1; i--) {
      const a = tree[base + 2 * i]
      const b = tree[base + 2 * i + 1]
      tree[base + i] = a < 0 ? b : b < 0 ? a : D[row + b] < D[row + a] ? b : a
    }
  }

  // The first unassigned entry (list order) whose best dsum is the smallest.
  let me = -1
  let mv = 0
  for (let k = 0; k < u; k++) {
    const e = un[k]
    const n = tree[slot[e] * T + 1]
    if (n < 0) continue
    const v = D[e * N + n]
    if (me < 0 || v < mv) {
      me = e
      mv = v
    }
  }

  while (me >= 0) {
    const m = tree[slot[me] * T + 1]
    owner[me] = m
    imb[m] += mv
    shift(me, m, 1)
    // One pass: drop `me` from the list, update every other tree's leaf m (dsum on m changed)
    // up to where nothing changes, and find the next choice.
    const chosen = me
    me = -1
    mv = 0
    let q = 0
    for (let k = 0; k < u; k++) {
      const x = un[k]
      if (x === chosen) continue
      un[q++] = x
      const row = x * N
      const base = slot[x] * T
      if (host[row + m] === 1) {
        for (let i = (m + P) >> 1; i >= 1; i >>= 1) {
          const a = tree[base + 2 * i]
          const b = tree[base + 2 * i + 1]
          // a < b always (left and right subtrees), so a wins ties.
          const w = a < 0 ? b : b < 0 ? a : D[row + b] < D[row + a] ? b : a
          // Above here nothing changes when this subtree's winner and its value are unchanged.
          if (w === tree[base + i] && w !== m) break
          tree[base + i] = w
        }
      }
      const n = tree[base + 1]
      if (n < 0) continue
      const v = D[row + n]
      if (me < 0 || v < mv) {
        me = x
        mv = v
      }
    }
    u = q
  }
}

/**
 * lcp2_failback(): sort nodes by imbalance (descending, stable); from the first node with a
 * non-zero imbalance that has one, make the best admissible move of one of its addresses to a
 * rebalance candidate; re-sort and repeat until no node has a move.
 *
 * The best move of `src` is the first (entry in list order, candidate in pnn order) with the
 * smallest key (srcimbl + dstimbl) mod 2³² among admissible ones (dstdsum < srcdsum and
 * dstimbl < imb(src)). To skip entries that cannot win, the entry of src with the largest
 * srcdsum is evaluated first; its best key B bounds the answer. When no sum involved can wrap
 * (see `pruning`), every key of entry e is at least (imb(src) - srcdsum(e)) + min imb(candidate),
 * and an entry whose bound exceeds B cannot hold the minimum, so the list-order scan skips it.
 * Entries that tie with B are still scanned, so the first-found tie-break is unchanged.
 */
function failback(s: AllocState, D: Uint32Array, imb: Uint32Array, candidates: Int32Array, shift: Shift): void {
  const N = s.numNodes
  const A = s.numIps
  const {owner, host} = s
  const C = candidates.length
  const order: number[] = new Array<number>(N)
  const byImbalance = (a: number, b: number): number => imb[b] - imb[a] || a - b

  // take[e·N + d] = 1 when candidate d can take entry e. With many candidates, walking all
  // nodes against this mask is faster than going through the candidate list.
  const isCandidate = new Uint8Array(N)
  for (let c = 0; c < C; c++) isCandidate[candidates[c]] = 1
  const take = new Uint8Array(A * N)
  for (let e = 0, i = 0; e < A; e++) for (let d = 0; d < N; d++, i++) take[i] = host[i] & isCandidate[d]
  // Destinations scanned in pnn order: every node (the mask filters) or just the candidates.
  const scan = C * 4 >= N ? Int32Array.from({length: N}, (_, i) => i) : candidates

  // Best admissible move of entry e (owned by src): returns the destination (first pnn among
  // those with the smallest key) and leaves its key and dstimbl in keyOut / dstImblOut; -1 if none.
  let keyOut = 0
  let dstImblOut = 0
  const entryBest = (e: number, src: number, srcImb: number): number => {
    const row = e * N
    const srcdsum = D[row + src]
    const srcimbl = (srcImb - srcdsum) >>> 0
    let best = -1
    let bestKey = 0
    let bestDstImbl = 0
    for (let c = 0; c < scan.length; c++) {
      const dst = scan[c]
      if (take[row + dst] !== 1) continue
      const dstdsum = D[row + dst]
      if (dstdsum >= srcdsum) continue
      const dstimbl = (imb[dst] + dstdsum) >>> 0
      if (dstimbl >= srcImb) continue
      const key = (srcimbl + dstimbl) >>> 0
      if (best < 0 || key < bestKey) {
        best = dst
        bestKey = key
        bestDstImbl = dstimbl
      }
    }
    keyOut = bestKey
    dstImblOut = bestDstImbl
    return best
  }

  for (;;) {
    for (let n = 0; n < N; n++) order[n] = n
    order.sort(byImbalance)
    let moved = false
    for (let k = 0; k < N && !moved; k++) {
      const src = order[k]
      const srcImb = imb[src]
      if (srcImb === 0) break

      // Pruning bound. With S = imb(src) and M = max imb(candidate): for an admissible move of an
      // entry with srcdsum <= S, srcimbl = S - srcdsum exactly, dstdsum < srcdsum so
      // dstimbl = imb(dst) + dstdsum < M + srcdsum exactly when S + M <= 2³², and then
      // srcimbl + dstimbl < S + M <= 2³² does not wrap either.
      let minCandImb = Infinity
      let maxCandImb = 0
      for (let c = 0; c < C; c++) {
        const v = imb[candidates[c]]
        if (v < minCandImb) minCandImb = v
        if (v > maxCandImb) maxCandImb = v
      }
      let bound = -1
      if (srcImb + maxCandImb <= 0x100000000) {
        let first = -1
        let most = -1
        for (let e = 0, i = src; e < A; e++, i += N) {
          if (owner[e] === src && D[i] > most) {
            most = D[i]
            first = e
          }
        }
        if (first >= 0 && entryBest(first, src, srcImb) >= 0) bound = keyOut
      }

      // lcp2_failback_candidate(): the first (entry, destination) in list and pnn order with the
      // smallest key.
      let minE = -1
      let minD = -1
      let minKey = 0
      let minDstImbl = 0
      for (let e = 0, i = src; e < A; e++, i += N) {
        if (owner[e] !== src) continue
        const srcdsum = D[i]
        if (bound >= 0 && srcdsum <= srcImb && srcImb - srcdsum + minCandImb > bound) continue
        const dst = entryBest(e, src, srcImb)
        if (dst >= 0 && (minD < 0 || keyOut < minKey)) {
          minE = e
          minD = dst
          minKey = keyOut
          minDstImbl = dstImblOut
        }
      }
      if (minD < 0) continue

      owner[minE] = minD
      imb[src] = (srcImb - D[minE * N + src]) >>> 0
      imb[minD] = minDstImbl
      shift(minE, src, -1)
      shift(minE, minD, 1)
      moved = true
    }
    if (!moved) return
  }
}
