// `ctdbctl ip list` and `ip info`, modelled on `ctdb ip` and `ctdb ipinfo` (core-spec §7.3).
import type {ClusterConfig} from '../config/model.js'
import {parseIp} from '../config/ip.js'
import type {ClusterState} from './state.js'

/** CTDB's order: IPv4 before IPv6, then numerically. */
export function compareAddresses(a: string, b: string): number {
  const pa = parseIp(a)
  const pb = parseIp(b)
  if (!pa || !pb) return a.localeCompare(b)
  if (pa.family !== pb.family) return pa.family - pb.family
  for (let i = 0; i < pa.bytes.length; i++) if (pa.bytes[i] !== pb.bytes[i]) return pa.bytes[i] - pb.bytes[i]
  return 0
}

export function renderIpList(entries: readonly {address: string; pnn: number}[], header: string): string {
  const sorted = [...entries].sort((x, y) => compareAddresses(x.address, y.address))
  return [header, ...sorted.map((e) => `${e.address} ${e.pnn}`)].join('\n') + '\n'
}

/** `ctdb ipinfo`: the address, its holder and its interfaces on the node that answered. */
export function renderIpInfo(config: ClusterConfig, state: ClusterState, address: string): {stdout: string; exitCode: number} {
  const node = state.thisNode ?? 0
  const pa = config.publicAddresses.find((a) => a.address === address)
  if (!pa) return {stdout: `Control GET_PUBLIC_IP_INFO failed, ret=-1\nNode ${node} does not know about IP ${address}\n`, exitCode: 1}
  const holder = state.publicAddresses.find((a) => a.address === pa.address)?.pnn ?? -1
  const links = state.nodes.find((n) => n.pnn === node)?.interfaces ?? {}
  const heldHere = new Set(state.publicAddresses.filter((a) => a.pnn === node).map((a) => a.address))
  const active = holder === node ? pa.interfaces.find((i) => links[i] !== 'down') : undefined
  const lines = [
    `Public IP[${pa.address}] info on node ${node}`,
    `IP:${pa.address}`,
    `CurrentNode:${holder < 0 ? 4294967295 : holder}`,
    `NumInterfaces:${pa.interfaces.length}`,
    ...pa.interfaces.map((iface, i) => {
      const refs = config.publicAddresses.filter((a) => heldHere.has(a.address) && a.interfaces[0] === iface).length
      return `Interface[${i + 1}]: Name:${iface} Link:${links[iface] ?? 'up'} References:${refs}${iface === active ? ' (active)' : ''}`
    }),
  ]
  return {stdout: lines.join('\n') + '\n', exitCode: 0}
}
