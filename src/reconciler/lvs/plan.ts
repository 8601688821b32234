// The LVS planner: CTDB's 91.lvs event script (helpers-spec.md §2.4) as pure functions from the
// group and the roles (lvsRoles) to an ordered list of host operations. Pure.
//
// Unlike the NAT gateway there is no change detection: every ipreallocated rebuilds the IPVS
// services from scratch on every member, as CTDB does.
import type {LvsGroup, NodeConfig} from '../../config/model.js'
import {lvsRoles, type LvsNodeJson} from '../../cluster/lvs.js'
import type {ClusterState} from '../../cluster/state.js'
import {ipvsadmArgs, type IpvsProtocol} from '../drivers/ipvsadm-driver.js'
import type {HostOp} from '../natgw/host-ops.js'

const PROTOCOLS: readonly IpvsProtocol[] = ['tcp', 'udp']

/** What one node needs to know at ipreallocated. */
export interface LvsDesired {
  group: LvsGroup
  thisPnn: number
  /** pnn of the LVS leader (`ctdb lvs leader`), null when there is none. */
  leader: number | null
  /** The usable members (`ctdb lvs list`), follower-only included, PNN order. */
  servers: LvsNodeJson[]
}

/** The LVS address with its host prefix (`IP/32`). */
export function lvsHostAddress(g: LvsGroup): string {
  return `${g.address}/${g.family === 6 ? 128 : 32}`
}

const deleteServices = (g: LvsGroup, quiet: boolean): HostOp[] =>
  PROTOCOLS.map((p) => ({kind: 'ipvsadm', args: ipvsadmArgs.deleteService(p, g.address), ...(quiet ? {quiet} : {})}))

const flushRouteCache: HostOp[] = [
  {kind: 'sysctl', key: 'net/ipv4/route/flush', value: '1', ifWritable: true},
  {kind: 'sysctl', key: 'net/ipv6/route/flush', value: '1', ifWritable: true},
]

/** startup: no services, the address on lo with host scope, ARP sysctls. */
export function planLvsStartup(g: LvsGroup): HostOp[] {
  return [
    ...deleteServices(g, true),
    {kind: 'ip', argv: ['addr', 'add', lvsHostAddress(g), 'dev', 'lo', 'scope', 'host']},
    // Do not answer ARP for host-scope addresses; do not source ARP requests from loopback addresses.
    {kind: 'sysctl', key: 'net/ipv4/conf/all/arp_ignore', value: '3', ifWritable: true},
    {kind: 'sysctl', key: 'net/ipv4/conf/all/arp_announce', value: '2', ifWritable: true},
  ]
}

/** shutdown: services deleted (failures reported), the address removed from lo, route caches flushed. */
export function planLvsShutdown(g: LvsGroup): HostOp[] {
  return [...deleteServices(g, false), {kind: 'ip', argv: ['addr', 'del', lvsHostAddress(g), 'dev', 'lo'], quiet: true}, ...flushRouteCache]
}

/**
 * ipreallocated, on every member: services deleted, local ends of connections to the address
 * reset; then a follower (or every node when there is no leader) holds the address on lo with
 * host scope, while the leader holds it with global scope (so it answers ARP), creates the TCP and
 * UDP services, adds every usable member but itself as a direct-routing real server and itself as
 * the local real server 127.0.0.1, and announces the address with gratuitous ARPs.
 */
export function planLvsIpreallocated(d: LvsDesired): HostOp[] {
  const g = d.group
  const ops: HostOp[] = [...deleteServices(g, true), {kind: 'kill-tcp-local', address: g.address, iface: g.interface}]
  const addr = lvsHostAddress(g)
  if (d.leader === null || d.leader !== d.thisPnn) {
    ops.push({kind: 'ip', argv: ['addr', 'del', addr, 'dev', 'lo'], quiet: true}, {kind: 'ip', argv: ['addr', 'add', addr, 'dev', 'lo', 'scope', 'host']})
    return ops
  }
  ops.push({kind: 'ip', argv: ['addr', 'del', addr, 'dev', 'lo'], quiet: true}, {kind: 'ip', argv: ['addr', 'add', addr, 'dev', 'lo'], quiet: true})
  for (const p of PROTOCOLS) ops.push({kind: 'ipvsadm', args: ipvsadmArgs.addService(p, g.address)})
  for (const s of d.servers) {
    if (s.pnn === d.thisPnn) continue
    for (const p of PROTOCOLS) ops.push({kind: 'ipvsadm', args: ipvsadmArgs.addRealServer(p, g.address, s.address)})
  }
  for (const p of PROTOCOLS) ops.push({kind: 'ipvsadm', args: ipvsadmArgs.addLocalServer(p, g.address)})
  ops.push({kind: 'gratuitous-arp', address: g.address, iface: g.interface, quiet: true}, ...flushRouteCache)
  return ops
}

/** The roles this node needs, from the config and the cluster state (lvsRoles: `ctdb lvs leader` / `list`). */
export function lvsDesired(group: LvsGroup, nodes: readonly NodeConfig[], state: ClusterState, thisPnn: number): LvsDesired {
  const roles = lvsRoles(group, nodes, state)
  return {group, thisPnn, leader: roles.leader?.pnn ?? null, servers: roles.usable}
}

/** Is this node a member of the group? */
export function lvsIsMember(group: LvsGroup, pnn: number): boolean {
  return group.nodes.some((m) => m.pnn === pnn)
}
