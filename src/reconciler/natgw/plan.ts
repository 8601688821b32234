// The NAT gateway planner: CTDB's 11.natgw event script (helpers-spec.md §1.5–§1.9) as a pure
// function from the previously applied snapshot and the desired one to an ordered list of host
// operations. Pure.
//
// ipreallocated: if neither the config nor the leader changed, nothing (CTDB does not re-assert
// routes or rules); otherwise clear with the OLD values (the current ones when there is no old
// snapshot), then leader setup or follower setup, then flush the route cache.
import type {NatgwGroup, NodeConfig} from '../../config/model.js'
import {natgwRoles} from '../../cluster/natgw.js'
import type {ClusterState} from '../../cluster/state.js'
import {natgwTag, type IptablesRule} from '../drivers/iptables-driver.js'
import type {HostOp} from './host-ops.js'

export type NatgwRole = 'leader' | 'follower'

/** What one node applies for one group: the config, its own role and the leader's private address. */
export interface NatgwSnapshot {
  group: NatgwGroup
  role: NatgwRole
  /** The leader's private (node) address; followers route through it. */
  leaderAddress: string
}

export interface NatgwPlan {
  /** False when neither config nor leader changed: ops is empty. */
  changed: boolean
  configChanged: boolean
  leaderChanged: boolean
  /** CTDB's messages (`NAT gateway configuration has changed`). */
  messages: string[]
  ops: HostOp[]
}

export const NATGW_CONFIG_CHANGED = 'NAT gateway configuration has changed'
export const NATGW_NO_LEADER = 'There is no NATGW leader node'
const ROUTE_METRIC = '10'

const cidr = (c: {address: string; prefixLength: number}) => `${c.address}/${c.prefixLength}`

/**
 * The config fields CTDB records in its `cfg_old` snapshot, plus the group name (it names our
 * rules). Membership is left out like in CTDB, which records only the group file's path: a
 * membership change matters only through the leader it selects.
 */
export function natgwConfigKey(g: NatgwGroup): string {
  return JSON.stringify({
    name: g.name,
    publicAddress: cidr(g.publicAddress),
    publicInterface: g.publicInterface,
    defaultGateway: g.defaultGateway ?? '',
    privateNetwork: cidr(g.privateNetwork),
    staticRoutes: g.staticRoutes.map((r) => (r.gateway ? `${cidr(r.destination)}@${r.gateway}` : cidr(r.destination))),
  })
}

export function masqueradeRule(g: NatgwGroup): IptablesRule {
  const net = cidr(g.privateNetwork)
  return {table: 'nat', chain: 'POSTROUTING', match: ['-s', net, '!', '-d', net], jump: ['-j', 'MASQUERADE'], tag: natgwTag(g.name)}
}

export function rejectInboundRule(g: NatgwGroup): IptablesRule {
  return {table: 'filter', chain: 'INPUT', match: ['-p', 'tcp', '--syn', '-d', `${g.publicAddress.address}/32`], jump: ['-j', 'REJECT'], tag: natgwTag(g.name)}
}

/** CTDB's `_natgw_clear` with the values of `g`: every command quiet, failures ignored. */
export function planNatgwClear(g: NatgwGroup): HostOp[] {
  return [
    {kind: 'sysctl', key: `net/ipv4/conf/${g.publicInterface}/promote_secondaries`, value: '1', quiet: true},
    {kind: 'ip', argv: ['addr', 'del', cidr(g.publicAddress), 'dev', g.publicInterface], quiet: true},
    ...g.staticRoutes.map((r): HostOp => ({kind: 'ip', argv: ['route', 'del', cidr(r.destination), 'metric', ROUTE_METRIC], quiet: true})),
    {kind: 'iptables', action: 'delete', rule: masqueradeRule(g), quiet: true},
    {kind: 'iptables', action: 'delete', rule: rejectInboundRule(g), quiet: true},
  ]
}

/** CTDB's `natgw_set_leader`. */
export function planNatgwLeader(g: NatgwGroup): HostOp[] {
  const ops: HostOp[] = [
    {kind: 'sysctl', key: 'net/ipv4/ip_forward', value: '1'},
    {kind: 'iptables', action: 'append', rule: masqueradeRule(g)},
    {kind: 'iptables', action: 'delete', rule: rejectInboundRule(g), quiet: true},
    {kind: 'iptables', action: 'insert', rule: rejectInboundRule(g), quiet: true},
    {kind: 'ip', argv: ['addr', 'add', cidr(g.publicAddress), 'dev', g.publicInterface]},
  ]
  for (const r of g.staticRoutes) {
    const gw = r.gateway ?? g.defaultGateway ?? ''
    if (gw === '') continue
    ops.push({kind: 'ip', argv: ['route', 'add', cidr(r.destination), 'metric', ROUTE_METRIC, 'via', gw]})
  }
  return ops
}

/** CTDB's `natgw_set_follower`: routes via the leader; per-route gateways and the default gateway are ignored. */
export function planNatgwFollower(g: NatgwGroup, leaderAddress: string): HostOp[] {
  return g.staticRoutes.map((r) => ({kind: 'ip', argv: ['route', 'add', cidr(r.destination), 'via', leaderAddress, 'metric', ROUTE_METRIC]}))
}

const flushRouteCache: HostOp = {kind: 'sysctl', key: 'net/ipv4/route/flush', value: '1'}

/**
 * ipreallocated (and `updatenatgw`): the operations that take this node from `old` (what was last
 * applied; undefined when nothing is known) to `next`.
 */
export function planNatgw(old: NatgwSnapshot | undefined, next: NatgwSnapshot): NatgwPlan {
  const configChanged = old === undefined || natgwConfigKey(old.group) !== natgwConfigKey(next.group)
  const leaderChanged = old === undefined || old.leaderAddress !== next.leaderAddress || old.role !== next.role
  const messages = old !== undefined && configChanged ? [NATGW_CONFIG_CHANGED] : []
  if (!configChanged && !leaderChanged) return {changed: false, configChanged, leaderChanged, messages, ops: []}
  const ops: HostOp[] = planNatgwClear(old?.group ?? next.group)
  // Nothing is known about earlier runs: also sweep any rule of ours a forgotten config left behind.
  if (old === undefined) ops.push({kind: 'iptables-purge', tag: natgwTag(next.group.name), quiet: true})
  ops.push(...(next.role === 'leader' ? planNatgwLeader(next.group) : planNatgwFollower(next.group, next.leaderAddress)))
  ops.push(flushRouteCache)
  return {changed: true, configChanged, leaderChanged, messages, ops}
}

/** startup: stop ARP requests being sourced from addresses of other interfaces. */
export function planNatgwStartup(): HostOp[] {
  return [{kind: 'sysctl', key: 'net/ipv4/conf/all/arp_announce', value: '2'}]
}

/** shutdown / removenatgw: clear with the last applied values (else the current ones). */
export function planNatgwShutdown(old: NatgwSnapshot | undefined, current?: NatgwGroup): HostOp[] {
  const g = old?.group ?? current
  return g ? planNatgwClear(g) : []
}

export type NatgwDesired = {ok: true; snapshot: NatgwSnapshot} | {ok: false; message: string}

/**
 * The snapshot this node should apply for a group, from the config and the cluster state (roles
 * by natgwRoles, exactly as `ctdb natgw leader`). No leader: CTDB's failure, nothing to apply.
 */
export function natgwDesired(group: NatgwGroup, nodes: readonly NodeConfig[], state: ClusterState, thisPnn: number): NatgwDesired {
  const {leader} = natgwRoles(group, nodes, state)
  if (!leader) return {ok: false, message: NATGW_NO_LEADER}
  return {ok: true, snapshot: {group, role: leader.pnn === thisPnn ? 'leader' : 'follower', leaderAddress: leader.address}}
}

/** Is this node a member of the group (natgw applies only to the nodes listed in the group)? */
export function natgwIsMember(group: NatgwGroup, pnn: number): boolean {
  return group.nodes.some((m) => m.pnn === pnn)
}
