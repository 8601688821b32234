// LVS roles, exactly as CTDB's `ctdb_lvs` helper (helpers-spec.md §2.2–§2.3). Pure.

import type {LvsGroup, NodeConfig} from '../config/model.js'
import {groupLinesFromMembers, isFollowerOnly, lineMatchesNode, type GroupLine} from './groupfile.js'
import {
  groupNodeStatus,
  nodeMap,
  nodeStatusJson,
  nodeStatusLine,
  renderLines,
  usable,
  type NodeStatusEntry,
  type NodeStatusJson,
  type ToolOutput,
} from './nodestatus.js'
import type {ClusterState} from './state.js'

export type LvsCommand = 'leader' | 'list' | 'status'
export const LVS_COMMANDS: readonly LvsCommand[] = ['leader', 'list', 'status']

/** Exit status of `ctdb lvs leader` when no node can lead. */
export const LVS_NO_LEADER_EXIT = 255
/** Exit status of `ctdb lvs …` when node status could not be read. */
export const LVS_STATUS_FAILURE_EXIT = 10

/**
 * The passes of the helper's filter, in order:
 * 1. healthy: not UNKNOWN, DISABLED, UNHEALTHY or INACTIVE;
 * 2. degraded: not DISABLED and not INACTIVE (UNHEALTHY, UNKNOWN allowed; unlike the NAT gateway,
 *    BANNED, STOPPED and DISCONNECTED never qualify).
 */
const PASSES: readonly ((flags: number) => boolean)[] = [
  usable.healthy,
  (f) => !usable.disabled(f) && !usable.inactive(f),
]

export interface LvsFiltered {
  /** Every node designated by the lines that passes the first pass that finds anyone; PNN order. */
  nodes: NodeStatusEntry[]
  /** 1 or 2; null when nobody passes. */
  pass: 1 | 2 | null
}

/** The helper's `filter_nodes`: all qualifying nodes of the first pass that yields any. */
export function lvsFilter(lines: readonly GroupLine[], map: readonly NodeStatusEntry[]): LvsFiltered {
  const inGroup = map.filter((n) => lines.some((l) => lineMatchesNode(l, n)))
  for (const [i, pass] of PASSES.entries()) {
    const nodes = inGroup.filter((n) => pass(n.flags))
    if (nodes.length > 0) return {nodes, pass: (i + 1) as 1 | 2}
  }
  return {nodes: [], pass: null}
}

/** Leader: the first node (PNN order) the filter keeps among the lines that are not follower-only. */
export function lvsChooseLeader(lines: readonly GroupLine[], map: readonly NodeStatusEntry[]): NodeStatusEntry | null {
  return lvsFilter(lines.filter((l) => l.options === ''), map).nodes[0] ?? null
}

export interface LvsNodeJson {
  pnn: number
  address: string
}

export interface LvsRoles {
  leader: LvsNodeJson | null
  /** The usable members (follower-only included) that get connections; PNN order. */
  usable: LvsNodeJson[]
  /** Group members in group order. */
  members: {address: string; pnn: number | null; followerOnly: boolean; leader: boolean}[]
}

const nodeJson = (n: NodeStatusEntry): LvsNodeJson => ({pnn: n.pnn, address: n.address})

export function lvsRolesFromLines(lines: readonly GroupLine[], map: readonly NodeStatusEntry[]): LvsRoles {
  const leader = lvsChooseLeader(lines, map)
  return {
    leader: leader ? nodeJson(leader) : null,
    usable: lvsFilter(lines, map).nodes.map(nodeJson),
    members: lines.map((line) => {
      const node = map.find((n) => lineMatchesNode(line, n))
      const pnn = node?.pnn ?? line.pnn ?? null
      return {address: line.ip, pnn, followerOnly: isFollowerOnly(line), leader: leader !== null && pnn === leader.pnn}
    }),
  }
}

/** LVS roles of a ctdbctl group in a cluster state. */
export function lvsRoles(group: LvsGroup, nodes: readonly NodeConfig[], state: ClusterState): LvsRoles {
  return lvsRolesFromLines(groupLinesFromMembers(group.nodes, nodes), nodeMap(nodes, state))
}

export type LvsJson =
  | {command: 'leader'; group?: string; leader: number | null}
  | {command: 'list'; group?: string; nodes: LvsNodeJson[]}
  | {command: 'status'; group?: string; nodes: NodeStatusJson[]}

/**
 * `ctdb lvs <command>` on group lines and a node map: exact text and exit status.
 * - leader: `<PNN>` alone, exit 0; nobody qualifies (or empty group): no output, exit 255.
 * - list: `<PNN> <IP>` per usable node (follower-only included), PNN order; none: no output, exit 0.
 * - status: the nodestatus lines of the group's nodes, PNN order, exit 0.
 */
export function runLvs(
  command: LvsCommand,
  lines: readonly GroupLine[],
  map: readonly NodeStatusEntry[],
  group?: string,
): ToolOutput<LvsJson> {
  switch (command) {
    case 'leader': {
      const leader = lvsChooseLeader(lines, map)
      return leader
        ? {stdout: `${leader.pnn}\n`, exitCode: 0, json: {command, group, leader: leader.pnn}}
        : {stdout: '', exitCode: LVS_NO_LEADER_EXIT, json: {command, group, leader: null}}
    }
    case 'list': {
      const {nodes} = lvsFilter(lines, map)
      return {
        stdout: renderLines(nodes.map((n) => `${n.pnn} ${n.address}`)),
        exitCode: 0,
        json: {command, group, nodes: nodes.map(nodeJson)},
      }
    }
    case 'status': {
      const nodes = groupNodeStatus(lines, map)
      return {stdout: renderLines(nodes.map(nodeStatusLine)), exitCode: 0, json: {command, group, nodes: nodes.map(nodeStatusJson)}}
    }
  }
}

/** `ctdbctl lvs <command>` for a ctdbctl group: same text and exit status as `ctdb lvs <command>`. */
export function lvsCommand(
  command: LvsCommand,
  group: LvsGroup,
  nodes: readonly NodeConfig[],
  state: ClusterState,
): ToolOutput<LvsJson> {
  return runLvs(command, groupLinesFromMembers(group.nodes, nodes), nodeMap(nodes, state), group.name)
}
