// The allocation problem format (shared/vectors/ipalloc/README.md): the input of
// `ctdbctl ipalloc`, and CTDB's own test cases. Pure parsing and validation, no I/O.

import {NODE_FLAG_NAMES, type NodeFlag} from '../state.js'
import {KEY_WORDS, keyId, writeKey} from './key.js'

export const ALGORITHMS = ['lcp2', 'deterministic', 'nondeterministic'] as const
export type Algorithm = (typeof ALGORITHMS)[number]

export interface ProblemNode {
  /** Must equal the node's index in `nodes`. */
  pnn: number
  flags: NodeFlag[]
  /** false: the node is not in the RUNNING run state and can host nothing. Default true. */
  running?: boolean
}

export interface ProblemIp {
  address: string
  /** pnn holding it now, -1 for none. */
  current: number
  /** pnns on which the address is configured (known); absent = every node. */
  allowed?: number[]
}

export interface ProblemTunables {
  /** CTDB's NoIPTakeover: no node may take an address it does not already hold. */
  noIPTakeover: boolean
  /** CTDB's NoIPFailback: skip the rebalancing phase. Default false. */
  noIPFailback?: boolean
}

export interface Problem {
  source?: string
  description?: string
  /** Default lcp2 (CTDB's default). */
  algorithm: Algorithm
  tunables: ProblemTunables
  nodes: ProblemNode[]
  ips: ProblemIp[]
  /** Deterministic only: fixed home node per address (a pnn >= nodes.length is ignored). */
  homeNodes?: Record<string, number>
  /** LCP2 only: nodes allowed to receive addresses in failback although they hold some (CTDB's force-rebalance list). */
  forceRebalanceNodes?: number[]
  /** CTDB's answer, in the vectors; ignored by the allocator. */
  expected?: [string, number][]
}

/** Thrown by parseProblem; the message names the bad field. */
export class ProblemError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field === '' ? reason : `${field}: ${reason}`)
    this.name = 'ProblemError'
  }
}

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined'
  const s = JSON.stringify(v)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

function fail(field: string, reason: string): never {
  throw new ProblemError(field, reason)
}

function pnnIn(v: unknown, field: string, numNodes: number, allowUnassigned: boolean): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(field, `${show(v)} is not an integer pnn`)
  if (allowUnassigned && v === -1) return v
  if (v < 0 || v >= numNodes) {
    fail(field, `pnn ${v} is out of range (${allowUnassigned ? '-1 or ' : ''}0..${numNodes - 1}, the problem has ${numNodes} node${numNodes === 1 ? '' : 's'})`)
  }
  return v
}

function optionalBoolean(obj: Json, key: string, field: string): boolean | undefined {
  const v = obj[key]
  if (v === undefined) return undefined
  if (typeof v !== 'boolean') fail(field, `${show(v)} is not a boolean`)
  return v
}

/**
 * Validates an allocation problem (already JSON-parsed) and returns it typed. Unknown top-level
 * fields (source, description, expected, …) are ignored. Throws a ProblemError whose message
 * names the bad field, e.g. `ips[3].address: "1.2.3" is not an IPv4 or IPv6 address`.
 */
export function parseProblem(json: unknown): Problem {
  if (!isObject(json)) fail('', `the problem must be a JSON object, not ${Array.isArray(json) ? 'an array' : show(json)}`)

  let algorithm: Algorithm = 'lcp2'
  if (json.algorithm !== undefined) {
    if (!(ALGORITHMS as readonly unknown[]).includes(json.algorithm)) {
      fail('algorithm', `${show(json.algorithm)} is not one of ${ALGORITHMS.join(', ')}`)
    }
    algorithm = json.algorithm as Algorithm
  }

  const tunables: ProblemTunables = {noIPTakeover: false}
  if (json.tunables !== undefined) {
    if (!isObject(json.tunables)) fail('tunables', `${show(json.tunables)} is not an object`)
    tunables.noIPTakeover = optionalBoolean(json.tunables, 'noIPTakeover', 'tunables.noIPTakeover') ?? false
    const nf = optionalBoolean(json.tunables, 'noIPFailback', 'tunables.noIPFailback')
    if (nf !== undefined) tunables.noIPFailback = nf
  }

  if (!Array.isArray(json.nodes)) fail('nodes', json.nodes === undefined ? 'missing (an array of nodes in pnn order)' : `${show(json.nodes)} is not an array`)
  if (json.nodes.length === 0) fail('nodes', 'the problem needs at least one node')
  const numNodes = json.nodes.length
  const nodes: ProblemNode[] = json.nodes.map((n: unknown, i: number): ProblemNode => {
    const at = `nodes[${i}]`
    if (!isObject(n)) fail(at, `${show(n)} is not an object`)
    if (n.pnn !== i) fail(`${at}.pnn`, `${show(n.pnn)} must be ${i} (nodes are listed in pnn order, from 0)`)
    const flags: NodeFlag[] = []
    if (n.flags !== undefined) {
      if (!Array.isArray(n.flags)) fail(`${at}.flags`, `${show(n.flags)} is not an array of flag names`)
      n.flags.forEach((f: unknown, k: number) => {
        if (!(NODE_FLAG_NAMES as readonly unknown[]).includes(f)) fail(`${at}.flags[${k}]`, `${show(f)} is not one of ${NODE_FLAG_NAMES.join(', ')}`)
        flags.push(f as NodeFlag)
      })
    }
    const node: ProblemNode = {pnn: i, flags}
    const running = optionalBoolean(n, 'running', `${at}.running`)
    if (running !== undefined) node.running = running
    return node
  })

  if (!Array.isArray(json.ips)) fail('ips', json.ips === undefined ? 'missing (an array of addresses)' : `${show(json.ips)} is not an array`)
  const keys = new Uint32Array(KEY_WORDS)
  const seen = new Map<string, number>()
  const ips: ProblemIp[] = json.ips.map((ip: unknown, i: number): ProblemIp => {
    const at = `ips[${i}]`
    if (!isObject(ip)) fail(at, `${show(ip)} is not an object`)
    if (typeof ip.address !== 'string') fail(`${at}.address`, ip.address === undefined ? 'missing' : `${show(ip.address)} is not a string`)
    if (!writeKey(ip.address, keys, 0)) fail(`${at}.address`, `${show(ip.address)} is not an IPv4 or IPv6 address`)
    const id = keyId(keys, 0)
    const dup = seen.get(id)
    if (dup !== undefined) fail(`${at}.address`, `${show(ip.address)} is the same address as ips[${dup}]`)
    seen.set(id, i)
    if (ip.current === undefined) fail(`${at}.current`, 'missing (the pnn holding the address, -1 for none)')
    const out: ProblemIp = {address: ip.address, current: pnnIn(ip.current, `${at}.current`, numNodes, true)}
    if (ip.allowed !== undefined) {
      if (!Array.isArray(ip.allowed)) fail(`${at}.allowed`, `${show(ip.allowed)} is not an array of pnns`)
      if (ip.allowed.length === 0) fail(`${at}.allowed`, 'must name at least one node (omit it to allow every node)')
      out.allowed = ip.allowed.map((p: unknown, k: number) => pnnIn(p, `${at}.allowed[${k}]`, numNodes, false))
    }
    return out
  })

  const problem: Problem = {algorithm, tunables, nodes, ips}
  if (typeof json.source === 'string') problem.source = json.source
  if (typeof json.description === 'string') problem.description = json.description

  if (json.homeNodes !== undefined) {
    if (!isObject(json.homeNodes)) fail('homeNodes', `${show(json.homeNodes)} is not an object mapping addresses to pnns`)
    const homeNodes: Record<string, number> = {}
    for (const [address, pnn] of Object.entries(json.homeNodes)) {
      const at = `homeNodes[${JSON.stringify(address)}]`
      if (!writeKey(address, keys, 0)) fail(at, `${show(address)} is not an IPv4 or IPv6 address`)
      if (typeof pnn !== 'number' || !Number.isInteger(pnn) || pnn < 0) fail(at, `${show(pnn)} is not a pnn (a non-negative integer)`)
      homeNodes[address] = pnn
    }
    problem.homeNodes = homeNodes
  }

  if (json.forceRebalanceNodes !== undefined) {
    const f = json.forceRebalanceNodes
    if (!Array.isArray(f)) fail('forceRebalanceNodes', `${show(f)} is not an array of pnns`)
    problem.forceRebalanceNodes = f.map((p: unknown, k: number) => pnnIn(p, `forceRebalanceNodes[${k}]`, numNodes, false))
  }
  return problem
}
