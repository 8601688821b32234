// NAT gateway roles, exactly as CTDB's `ctdb_natgw` helper (helpers-spec.md §1.3–§1.4). Pure.

import type {NatgwGroup, NodeConfig} from '../config/model.js'
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

export type NatgwCommand = 'leader' | 'list' | 'status'
export const NATGW_COMMANDS: readonly NatgwCommand[] = ['leader', 'list', 'status']

/** Exit status of `ctdb natgw leader` when no node can lead. */
export const NATGW_NO_LEADER_EXIT = 2

export interface NatgwLeader {
  pnn: number
  address: string
  /** Which pass found it: 1 fully usable, 2 unhealthy/banned tolerated, 3 stopped tolerated. */
  pass: 1 | 2 | 3
}

/**
 * The passes, in order. A DISCONNECTED or DISABLED node never qualifies.
 * 1. not UNKNOWN, DISABLED, UNHEALTHY or INACTIVE (DISCONNECTED/BANNED/STOPPED/DELETED);
 * 2. not DISCONNECTED, DISABLED or STOPPED (UNHEALTHY, BANNED, UNKNOWN allowed);
 * 3. not DISCONNECTED or DISABLED (STOPPED allowed too).
 */
const PASSES: readonly ((flags: number) => boolean)[] = [
  usable.healthy,
  (f) => !usable.disconnected(f) && !usable.disabled(f) && !usable.stopped(f),
  (f) => !usable.disconnected(f) && !usable.disabled(f),
]

/**
 * Leader choice: candidates are the lines that are not follower-only (any options string makes a
 * line a non-candidate); the leader is the first node in PNN order (not group order) that is a
 * candidate and passes the first pass that finds anyone. null when nobody qualifies.
 */
export function natgwChooseLeader(lines: readonly GroupLine[], map: readonly NodeStatusEntry[]): NatgwLeader | null {
  const candidates = lines.filter((l) => l.options === '')
  for (const [i, pass] of PASSES.entries()) {
    const node = map.find((n) => pass(n.flags) && candidates.some((l) => lineMatchesNode(l, n)))
    if (node) return {pnn: node.pnn, address: node.address, pass: (i + 1) as 1 | 2 | 3}
  }
  return null
}

export interface NatgwMemberJson {
  /** The member's address as the group lists it. */
  address: string
  /** pnn of the node the line designates; null when it matches no listed node. */
  pnn: number | null
  followerOnly: boolean
  leader: boolean
}

export interface NatgwRoles {
  leader: NatgwLeader | null
  /** Group members in group order. */
  members: NatgwMemberJson[]
  /** pnns of the members that follow the leader (everyone in the node map but the leader). */
  followers: number[]
}

export function natgwRolesFromLines(lines: readonly GroupLine[], map: readonly NodeStatusEntry[]): NatgwRoles {
  const leader = natgwChooseLeader(lines, map)
  const members = lines.map((line) => {
    const node = map.find((n) => lineMatchesNode(line, n))
    return {
      address: line.ip,
      pnn: node?.pnn ?? line.pnn ?? null,
      followerOnly: isFollowerOnly(line),
      leader: leader !== null && lineIsLeader(line, leader),
    }
  })
  const followers = groupNodeStatus(lines, map)
    .map((n) => n.pnn)
    .filter((pnn) => pnn !== leader?.pnn)
  return {leader, members, followers}
}

/** NAT gateway roles of a ctdbctl group in a cluster state. */
export function natgwRoles(group: NatgwGroup, nodes: readonly NodeConfig[], state: ClusterState): NatgwRoles {
  return natgwRolesFromLines(groupLinesFromMembers(group.nodes, nodes), nodeMap(nodes, state))
}

function lineIsLeader(line: GroupLine, leader: NatgwLeader): boolean {
  return line.pnn !== undefined ? line.pnn === leader.pnn : line.ip === leader.address
}

export type NatgwJson =
  | {command: 'leader'; group?: string; leader: NatgwLeader | null}
  | {command: 'list'; group?: string; leader: number | null; members: NatgwMemberJson[]}
  | {command: 'status'; group?: string; nodes: NodeStatusJson[]}

/**
 * `ctdb natgw <command>` on group lines and a node map: exact text and exit status.
 * - leader: `<PNN> <IP>`, exit 0; nobody qualifies: no output, exit 2.
 * - list: every group line in group order, `<IP>` or `<IP>\t<options>`, the leader's options
 *   prefixed with `LEADER` (`LEADER,<options>`); no leader is not an error (exit 0).
 * - status: the nodestatus lines of the group's nodes, PNN order, exit 0.
 */
export function runNatgw(
  command: NatgwCommand,
  lines: readonly GroupLine[],
  map: readonly NodeStatusEntry[],
  group?: string,
): ToolOutput<NatgwJson> {
  switch (command) {
    case 'leader': {
      const leader = natgwChooseLeader(lines, map)
      return leader
        ? {stdout: `${leader.pnn} ${leader.address}\n`, exitCode: 0, json: {command, group, leader}}
        : {stdout: '', exitCode: NATGW_NO_LEADER_EXIT, json: {command, group, leader: null}}
    }
    case 'list': {
      const roles = natgwRolesFromLines(lines, map)
      const text = lines.map((line, i) => {
        const options = roles.members[i].leader ? (line.options ? `LEADER,${line.options}` : 'LEADER') : line.options
        return options ? `${line.ip}\t${options}` : line.ip
      })
      return {
        stdout: renderLines(text),
        exitCode: 0,
        json: {command, group, leader: roles.leader?.pnn ?? null, members: roles.members},
      }
    }
    case 'status': {
      const nodes = groupNodeStatus(lines, map)
      return {stdout: renderLines(nodes.map(nodeStatusLine)), exitCode: 0, json: {command, group, nodes: nodes.map(nodeStatusJson)}}
    }
  }
}

/** `ctdbctl natgw <command>` for a ctdbctl group: same text and exit status as `ctdb natgw <command>`. */
export function natgwCommand(
  command: NatgwCommand,
  group: NatgwGroup,
  nodes: readonly NodeConfig[],
  state: ClusterState,
): ToolOutput<NatgwJson> {
  return runNatgw(command, groupLinesFromMembers(group.nodes, nodes), nodeMap(nodes, state), group.name)
}
