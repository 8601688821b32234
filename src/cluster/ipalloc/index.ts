// The IP allocation engine: which node hosts which public address, with CTDB's three
// algorithms (ipalloc-spec.md). Pure, no I/O.
//
//   allocate(problem)                 the problem format of `ctdbctl ipalloc` and the vectors
//   allocateForCluster(config, state) the config model + a cluster state snapshot (plan, daemon)
//
// Both build an AllocationInput (addresses, keys, current owners, which node can host which
// address, tunables) and call allocateInput(), which sorts the merged list into CTDB's order
// (descending 128-bit key) and runs the algorithm. Costs are documented in each algorithm's module.

import type {ClusterConfig} from '../../config/model.js'
import {INACTIVE_MASK, NODE_FLAG_BITS, flagBits, nodeFlagBits, type ClusterState} from '../state.js'
import type {AllocState} from './common.js'
import {deterministic} from './deterministic.js'
import {KEY_WORDS, compareKeys, keyId, writeKey} from './key.js'
import {lcp2} from './lcp2.js'
import {nondeterministic} from './nondeterministic.js'
import type {Algorithm, Problem} from './problem.js'

export {ALGORITHMS, ProblemError, parseProblem} from './problem.js'
export type {Algorithm, Problem, ProblemIp, ProblemNode, ProblemTunables} from './problem.js'

/** UNHEALTHY | DISABLED: "disabled" for allocation purposes. */
export const DISABLED_MASK = NODE_FLAG_BITS.UNHEALTHY | NODE_FLAG_BITS.DISABLED

/** One result line: address and the pnn that should host it, -1 for nobody. */
export type Assignment = [address: string, pnn: number]

/** Algorithm-independent input: the addresses in any order, with what is known about them. */
/** What every algorithm starts from: the shared state of common.ts, with the address strings. */
export type AllocationInput = Omit<AllocState, 'numIps'> & {addresses: readonly string[]}

const RUN: Record<Algorithm, (s: AllocState) => void> = {lcp2, deterministic, nondeterministic}

/** Runs `algorithm` on `input`; the result is in CTDB's output order. */
export function allocateInput(algorithm: Algorithm, input: AllocationInput): Assignment[] {
  const A = input.addresses.length
  const N = input.numNodes
  const order = Array.from({length: A}, (_, i) => i).sort((a, b) => compareKeys(input.keys, b, a))
  const keys = new Uint32Array(A * KEY_WORDS)
  const owner = new Int32Array(A)
  const host = new Uint8Array(A * N)
  const home = input.home ? new Int32Array(A) : undefined
  order.forEach((i, e) => {
    keys.set(input.keys.subarray(i * KEY_WORDS, (i + 1) * KEY_WORDS), e * KEY_WORDS)
    owner[e] = input.owner[i]
    host.set(input.host.subarray(i * N, (i + 1) * N), e * N)
    if (home) home[e] = input.home![i]
  })
  const state: AllocState = {
    numNodes: N,
    numIps: A,
    keys,
    owner,
    host,
    noIPTakeover: input.noIPTakeover,
    noIPFailback: input.noIPFailback,
    home,
    forceRebalance: input.forceRebalance,
  }
  if (N > 0) RUN[algorithm](state)
  else owner.fill(-1)
  return order.map((i, e): Assignment => [input.addresses[i], owner[e]])
}

/** Builds the algorithm input of a (validated) problem: see shared/vectors/ipalloc/README.md. */
export function problemInput(problem: Problem): AllocationInput {
  const N = problem.nodes.length
  const A = problem.ips.length
  const nodeCanHost = problem.nodes.map((n) => (flagBits(n.flags) & (INACTIVE_MASK | DISABLED_MASK)) === 0 && n.running !== false)
  const keys = new Uint32Array(A * KEY_WORDS)
  const owner = new Int32Array(A)
  const host = new Uint8Array(A * N)
  const known = new Uint8Array(N)
  problem.ips.forEach((ip, i) => {
    if (!writeKey(ip.address, keys, i * KEY_WORDS)) throw new Error(`ips[${i}].address: ${JSON.stringify(ip.address)} is not an IPv4 or IPv6 address`)
    known.fill(ip.allowed ? 0 : 1)
    for (const p of ip.allowed ?? []) known[p] = 1
    for (let n = 0; n < N; n++) host[i * N + n] = known[n] && nodeCanHost[n] ? 1 : 0
    // Only the owner's own claim counts: a node that does not know the address cannot hold it.
    owner[i] = ip.current >= 0 && ip.current < N && known[ip.current] ? ip.current : -1
  })
  const input: AllocationInput = {
    numNodes: N,
    addresses: problem.ips.map((ip) => ip.address),
    keys,
    owner,
    host,
    noIPTakeover: problem.tunables.noIPTakeover,
    noIPFailback: problem.tunables.noIPFailback ?? false,
  }
  if (problem.homeNodes) {
    const byKey = new Map<string, number>()
    const k = new Uint32Array(KEY_WORDS)
    for (const [address, pnn] of Object.entries(problem.homeNodes)) if (writeKey(address, k, 0)) byKey.set(keyId(k, 0), pnn)
    input.home = Int32Array.from({length: A}, (_, i) => byKey.get(keyId(keys, i)) ?? -1)
  }
  if (problem.forceRebalanceNodes) input.forceRebalance = problem.forceRebalanceNodes
  return input
}

export interface AllocateOptions {
  /** Overrides the problem's (or the config's) algorithm. */
  algorithm?: Algorithm
}

/** Solves a validated problem (parseProblem); `[address, pnn]` pairs in CTDB's output order. */
export function allocate(problem: Problem, options: AllocateOptions = {}): Assignment[] {
  return allocateInput(options.algorithm ?? problem.algorithm, problemInput(problem))
}

/**
 * Where every public address of `config` should be, given the cluster `state`: address
 * (canonical, as in the config) → pnn, -1 for nobody, in CTDB's output order.
 *
 * As CTDB's leader builds it:
 * - nodes are pnns 0 … max configured pnn; config-deleted (and unconfigured) pnns are DELETED,
 *   a pnn absent from the snapshot is DISCONNECTED;
 * - an address is known on a node when the node may host it (publicAddresses[].nodes, default
 *   every node) and the node is not INACTIVE (CTDB only asks active nodes for their addresses);
 *   addresses known on no node are left out of the algorithm and reported as -1 after the others;
 * - it is available on a node that knows it unless the node is UNHEALTHY or DISABLED, or every
 *   interface of the address is reported "down" on that node (unreported interfaces count as up);
 *   with hostOnAllDisabled (NoIPHostOnAllDisabled=0), when no node at all is free of
 *   INACTIVE/UNHEALTHY/DISABLED, UNHEALTHY and DISABLED nodes may host;
 * - the current owner is the highest pnn that knows the address and holds it per
 *   state.publicAddresses (other nodes' beliefs are ignored, as CTDB's merged list);
 * - takeover=false is NoIPTakeover, failback=false is NoIPFailback.
 */
export function allocateForCluster(config: ClusterConfig, state: ClusterState, options: AllocateOptions = {}): Map<string, number> {
  let N = 0
  for (const n of config.nodes) N = Math.max(N, n.pnn + 1)
  const flags = new Int32Array(N).fill(NODE_FLAG_BITS.DELETED)
  for (const n of config.nodes) if (!n.deleted) flags[n.pnn] = nodeFlagBits(state, n.pnn)
  const allDisabled = flags.every((f) => (f & (INACTIVE_MASK | DISABLED_MASK)) !== 0)
  const nodeCanHost = Array.from(flags, (f) => (f & INACTIVE_MASK) === 0 && ((f & DISABLED_MASK) === 0 || (config.ipAllocation.hostOnAllDisabled && allDisabled)))
  const links = new Map<number, Record<string, 'up' | 'down'>>()
  for (const n of state.nodes) if (n.interfaces) links.set(n.pnn, n.interfaces)

  // Merge duplicates (same address, any spelling) as CTDB's merged list does.
  const key = new Uint32Array(KEY_WORDS)
  const index = new Map<string, number>()
  const addresses: string[] = []
  const keyWords: number[] = []
  const knownRows: Uint8Array[] = []
  const hostRows: Uint8Array[] = []
  for (const pa of config.publicAddresses) {
    if (!writeKey(pa.address, key, 0)) throw new Error(`public address ${JSON.stringify(pa.address)} is not an IPv4 or IPv6 address`)
    const id = keyId(key, 0)
    let i = index.get(id)
    if (i === undefined) {
      i = addresses.length
      index.set(id, i)
      addresses.push(pa.address)
      keyWords.push(...key)
      knownRows.push(new Uint8Array(N))
      hostRows.push(new Uint8Array(N))
    }
    for (const p of pa.nodes ?? Array.from({length: N}, (_, p) => p)) {
      if (p < 0 || p >= N || (flags[p] & INACTIVE_MASK) !== 0) continue
      knownRows[i][p] = 1
      const ifs = links.get(p)
      const linkUp = !ifs || pa.interfaces.length === 0 || pa.interfaces.some((name) => ifs[name] !== 'down')
      if (nodeCanHost[p] && linkUp) hostRows[i][p] = 1
    }
  }

  const owners = new Int32Array(addresses.length).fill(-1)
  for (const held of state.publicAddresses) {
    if (held.pnn < 0 || held.pnn >= N || !writeKey(held.address, key, 0)) continue
    const i = index.get(keyId(key, 0))
    if (i !== undefined && knownRows[i][held.pnn] && held.pnn > owners[i]) owners[i] = held.pnn
  }

  const listed: number[] = []
  const unknown: number[] = []
  knownRows.forEach((row, i) => (row.includes(1) ? listed : unknown).push(i))
  const input: AllocationInput = {
    numNodes: N,
    addresses: listed.map((i) => addresses[i]),
    keys: new Uint32Array(listed.flatMap((i) => keyWords.slice(i * KEY_WORDS, (i + 1) * KEY_WORDS))),
    owner: Int32Array.from(listed, (i) => owners[i]),
    host: new Uint8Array(listed.length * N),
    noIPTakeover: !config.ipAllocation.takeover,
    noIPFailback: !config.ipAllocation.failback,
  }
  listed.forEach((i, k) => input.host.set(hostRows[i], k * N))

  const result = new Map<string, number>(allocateInput(options.algorithm ?? config.ipAllocation.algorithm, input))
  for (const i of unknown) result.set(addresses[i], -1)
  return result
}
