// CTDB's `ctdb nodestatus` view of a cluster (helpers-spec.md §0.1–§0.2): the flag string, the
// `pnn:N IP FLAGS` line, and the node map the NAT gateway and LVS helpers work on.
// Pure: built from the config's node list and a state snapshot.

import type {NodeConfig} from '../config/model.js'
import {lineMatchesNode, type GroupLine} from './groupfile.js'
import {NODE_FLAG_BITS, type ClusterState, type NodeFlag} from './state.js'

/** Tool-side synthetic flag (never in a snapshot; shown while the queried node is starting up). */
export const FLAG_UNKNOWN = 0x40
/** DISCONNECTED | BANNED | DELETED | STOPPED */
export const FLAG_INACTIVE_MASK = 0x39

const FLAG_DISCONNECTED = 0x01
const FLAG_UNHEALTHY = 0x02
const FLAG_DISABLED = 0x04
const FLAG_BANNED = 0x08
const FLAG_DELETED = 0x10
const FLAG_STOPPED = 0x20

/** Every flag name a node can carry in CTDB, with its wire bit (UNKNOWN included). */
export const ALL_FLAG_BITS: Readonly<Record<NodeFlag | 'UNKNOWN', number>> = {...NODE_FLAG_BITS, UNKNOWN: FLAG_UNKNOWN}

/** One node as `ctdb nodestatus` sees it. */
export interface NodeStatusEntry {
  pnn: number
  /** Private address as CTDB prints it. */
  address: string
  /** CTDB flag bits (0x01 DISCONNECTED … 0x20 STOPPED, 0x40 UNKNOWN). */
  flags: number
  /** Some interface of the node reports link down. */
  interfaceDown: boolean
  thisNode: boolean
}

/** Bits of a list of flag names; unknown names are ignored. */
export function flagNamesToBits(names: readonly string[]): number {
  let bits = 0
  for (const name of names) bits |= (ALL_FLAG_BITS as Record<string, number>)[name] ?? 0
  return bits
}

/** The names of the set bits, lowest bit first (the order of DESIGN.md's flag list). */
export function flagBitsToNames(bits: number): string[] {
  return Object.entries(ALL_FLAG_BITS)
    .sort((a, b) => a[1] - b[1])
    .filter(([, bit]) => (bits & bit) !== 0)
    .map(([name]) => name)
}

/**
 * CTDB's human-readable flag string: DISCONNECTED, UNKNOWN, DISABLED, BANNED, UNHEALTHY, DELETED,
 * STOPPED, INACTIVE joined with `|`, `OK` when none applies, and `PARTIALLYONLINE` when the flags
 * are exactly 0 but some interface is down.
 */
export function flagString(flags: number, interfaceDown = false): string {
  if (flags === 0 && interfaceDown) return 'PARTIALLYONLINE'
  const names: string[] = []
  if (flags & FLAG_DISCONNECTED) names.push('DISCONNECTED')
  if (flags & FLAG_UNKNOWN) names.push('UNKNOWN')
  if (flags & FLAG_DISABLED) names.push('DISABLED')
  if (flags & FLAG_BANNED) names.push('BANNED')
  if (flags & FLAG_UNHEALTHY) names.push('UNHEALTHY')
  if (flags & FLAG_DELETED) names.push('DELETED')
  if (flags & FLAG_STOPPED) names.push('STOPPED')
  if (flags & FLAG_INACTIVE_MASK) names.push('INACTIVE')
  return names.length > 0 ? names.join('|') : 'OK'
}

/** `pnn:<PNN> <IP padded right to 16> <FLAGS>[ (THIS NODE)]` — no newline. */
export function nodeStatusLine(entry: NodeStatusEntry): string {
  return `pnn:${entry.pnn} ${entry.address.padEnd(16)} ${flagString(entry.flags, entry.interfaceDown)}` +
    (entry.thisNode ? ' (THIS NODE)' : '')
}

/**
 * The node map in PNN order without deleted nodes (CTDB never prints those): every node of the
 * config, with its flags from the snapshot. A node absent from the snapshot is DISCONNECTED; a node
 * deleted in the config or flagged DELETED in the snapshot is left out.
 */
export function nodeMap(nodes: readonly NodeConfig[], state: ClusterState): NodeStatusEntry[] {
  const byPnn = new Map(state.nodes.map((n) => [n.pnn, n]))
  return [...nodes]
    .sort((a, b) => a.pnn - b.pnn)
    .flatMap((node): NodeStatusEntry[] => {
      const observed = byPnn.get(node.pnn)
      const flags = observed ? flagNamesToBits(observed.flags) : FLAG_DISCONNECTED
      if (node.deleted || (flags & FLAG_DELETED) !== 0) return []
      return [{
        pnn: node.pnn,
        address: node.address,
        flags,
        interfaceDown: Object.values(observed?.interfaces ?? {}).some((s) => s === 'down'),
        thisNode: state.thisNode !== undefined && state.thisNode === node.pnn,
      }]
    })
}

/** Output of `ctdb nodestatus all` and its exit status (OR of all printed nodes' flags). */
export function renderNodeStatusAll(map: readonly NodeStatusEntry[], deletedCount = 0): {stdout: string; exitCode: number} {
  const header = deletedCount > 0
    ? `Number of nodes:${map.length + deletedCount} (including ${deletedCount} deleted nodes)`
    : `Number of nodes:${map.length}`
  const lines = [header, ...map.map(nodeStatusLine)]
  return {stdout: lines.join('\n') + '\n', exitCode: map.reduce((acc, n) => acc | n.flags, 0) & 0xff}
}

/** Usability predicates shared by the NAT gateway and LVS helpers (the `-X nodestatus` columns). */
export const usable = {
  /** Not UNKNOWN, not DISABLED, not UNHEALTHY, not INACTIVE. */
  healthy: (f: number) => (f & (FLAG_UNKNOWN | FLAG_DISABLED | FLAG_UNHEALTHY | FLAG_INACTIVE_MASK)) === 0,
  disconnected: (f: number) => (f & FLAG_DISCONNECTED) !== 0,
  disabled: (f: number) => (f & FLAG_DISABLED) !== 0,
  stopped: (f: number) => (f & FLAG_STOPPED) !== 0,
  inactive: (f: number) => (f & FLAG_INACTIVE_MASK) !== 0,
}

/** What a `ctdb natgw|lvs …` style command prints and returns, plus a JSON-able result. */
export interface ToolOutput<J = unknown> {
  /** Exact text (CTDB merges stderr into it in its tests; ctdbctl prints it all on stdout). */
  stdout: string
  exitCode: number
  json: J
}

/** One node of a `status` listing, JSON form. */
export interface NodeStatusJson {
  pnn: number
  address: string
  flags: string[]
  /** The flag string as printed (`OK`, `UNHEALTHY`, `PARTIALLYONLINE`, …). */
  status: string
  thisNode: boolean
}

export function nodeStatusJson(entry: NodeStatusEntry): NodeStatusJson {
  return {
    pnn: entry.pnn,
    address: entry.address,
    flags: flagBitsToNames(entry.flags),
    status: flagString(entry.flags, entry.interfaceDown),
    thisNode: entry.thisNode,
  }
}

/**
 * The `ctdb nodestatus all` lines of the nodes a group designates (follower-only included), PNN
 * order — what `ctdb natgw status` and `ctdb lvs status` print.
 */
export function groupNodeStatus(lines: readonly GroupLine[], map: readonly NodeStatusEntry[]): NodeStatusEntry[] {
  return map.filter((node) => lines.some((line) => lineMatchesNode(line, node)))
}

export function renderLines(lines: readonly string[]): string {
  return lines.map((l) => l + '\n').join('')
}

// ---------------------------------------------------------------------------------------------
// Tool-level outcomes that happen before any helper runs (helpers-spec.md §0.3).

/**
 * The cluster state could not be obtained within the maximum runtime (CTDB's `-T` / the state query
 * timed out; vectors `*.010.*`): `Maximum runtime exceeded - exiting`, exit 1.
 */
export function renderRuntimeExceeded(): ToolOutput<{error: string}> {
  const message = 'Maximum runtime exceeded - exiting'
  return {stdout: message + '\n', exitCode: 1, json: {error: message}}
}

/**
 * The cluster cannot be reached (no local daemon; vectors `ctdb.lvs.008.*`). CTDB prints the
 * connect failure, then — only when no address of the nodes list is local, i.e. this node cannot
 * tell which node it is — `Failed to detect PNN of the current node.` and
 * `Is this node part of CTDB cluster?`; exit 1.
 */
export function renderClusterUnreachable(opts: {
  /** Where the daemon was expected (CTDB: its unix socket path). */
  endpoint: string
  /** errno of the failed connect (2 = ENOENT: no socket; 111 = ECONNREFUSED). */
  errno?: number
  /** pnn of this node when it could be detected from the local addresses, else null. */
  thisNode: number | null
}): ToolOutput<{error: string; thisNode: number | null}> {
  const lines = [`connect() failed, errno=${opts.errno ?? 2}`, `Failed to connect to CTDB daemon (${opts.endpoint})`]
  if (opts.thisNode === null) lines.push('Failed to detect PNN of the current node.', 'Is this node part of CTDB cluster?')
  return {
    stdout: renderLines(lines),
    exitCode: 1,
    json: {error: `Failed to connect to CTDB daemon (${opts.endpoint})`, thisNode: opts.thisNode},
  }
}

/**
 * CTDB's "which node am I": the pnn (line index, CTDB nodes-file order) of the first node address
 * that is one of this host's addresses; null when none is. Deleted entries (`#…` lines in CTDB's
 * nodes file) are never a match.
 */
export function detectThisNode(
  nodes: readonly {pnn: number; address: string; deleted?: boolean}[],
  localAddresses: readonly string[],
): number | null {
  const local = new Set(localAddresses)
  return nodes.find((n) => !n.deleted && local.has(n.address))?.pnn ?? null
}
