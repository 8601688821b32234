// NAT gateway (CTDB_NATGW_*) and LVS (CTDB_LVS_*) settings with their group files
// (helpers-spec §0.4, §1.2, §2.1) → spec.natgw / spec.lvs. Pure.
import {INTERFACE_NAME} from '../config/formats.js'
import {cidrContains, formatCidr, parseCidr, parseIp} from '../config/ip.js'
import type {RawLvs, RawMember, RawNatgw} from '../config/raw.js'
import {formatSources, resolveCtdbPath, scriptEnabled, type Ctx} from './context.js'
import {fileLines, splitBlanks, type ShellVar} from './text.js'
import type {Diagnostics} from './types.js'

export type Feature = 'natgw' | 'lvs'

export interface GroupFileEntry {
  /** Canonical address. */
  address: string
  followerOnly: boolean
  line: number
}

const FEATURE = {
  natgw: {
    script: '11.natgw', nodesVar: 'CTDB_NATGW_NODES', what: 'NAT gateway', defaultFile: 'natgw_nodes',
    known: ['CTDB_NATGW_NODES', 'CTDB_NATGW_PRIVATE_NETWORK', 'CTDB_NATGW_PUBLIC_IP', 'CTDB_NATGW_PUBLIC_IFACE', 'CTDB_NATGW_DEFAULT_GATEWAY', 'CTDB_NATGW_STATIC_ROUTES'],
  },
  lvs: {
    script: '91.lvs', nodesVar: 'CTDB_LVS_NODES', what: 'LVS', defaultFile: 'lvs_nodes',
    known: ['CTDB_LVS_NODES', 'CTDB_LVS_PUBLIC_IP', 'CTDB_LVS_PUBLIC_IFACE'],
  },
} as const

/**
 * A NATGW/LVS group file: `IP [follower-only]` per line; lines whose first word starts with `#`
 * and blank lines are skipped. `slave-only` (the spelling before CTDB 4.13, which HEAD rejects) is
 * translated to follower-only with a warning; any other options string makes CTDB's helper reject
 * the whole file, so that line is not imported.
 */
export function parseGroupFile(text: string, file: string, diag: Diagnostics): GroupFileEntry[] {
  const out: GroupFileEntry[] = []
  const seen = new Map<string, number>()
  for (const {line, text: raw} of fileLines(text)) {
    const words = splitBlanks(raw)
    if (words.length === 0 || words[0].startsWith('#')) continue
    const options = words.slice(1).join(' ')
    let followerOnly = false
    if (options === 'follower-only') followerOnly = true
    else if (options === 'slave-only') {
      followerOnly = true
      diag.warn(file, line, `"slave-only" is the spelling used before CTDB 4.13 (CTDB 4.13 and later reject it): translated to followerOnly: true`)
    } else if (options !== '') {
      diag.warn(file, line, `Invalid options "${options}": the only option is "follower-only" and CTDB's helper rejects the whole file; this line is not imported`)
      continue
    }
    const ip = parseIp(words[0])
    if (!ip) {
      diag.warn(file, line, `"${words[0]}" is not an IP address, so CTDB never matches it to a node; not imported`)
      continue
    }
    const earlier = seen.get(ip.address)
    if (earlier !== undefined) {
      diag.warn(file, line, `${ip.address} is already listed at line ${earlier}; this line is not imported`)
      continue
    }
    seen.set(ip.address, line)
    out.push({address: ip.address, followerOnly, line})
  }
  return out
}

interface Loaded {
  vars: Map<string, ShellVar>
  file: string
  members: {pnn: number; followerOnly: boolean; line: number}[]
}

/** Common part: is the feature on, read its variables and group file, map lines to nodes. */
function load(ctx: Ctx, feature: Feature): Loaded | undefined {
  const f = FEATURE[feature]
  const enabled = scriptEnabled(ctx, f.script)
  const vars = new Map<string, ShellVar>()
  for (const name of f.known) {
    const v = ctx.options.get(f.script, name)
    if (v) vars.set(name, v)
  }
  const nodesVar = vars.get(f.nodesVar)
  const skipAll = (why: string) => {
    for (const v of vars.values()) ctx.diag.warn(v.file, v.line, `${v.name} is not imported: ${why}`)
  }
  if (nodesVar === undefined || nodesVar.value === '') {
    if (enabled) ctx.diag.warn(`events/legacy/${f.script}.script`, undefined, `${f.script} is enabled but ${f.nodesVar} is not set, so CTDB runs no ${f.what}; nothing to import`)
    if (vars.size > 0) skipAll(`${f.nodesVar} is not set, so CTDB's ${f.what} is off`)
    return undefined
  }
  if (enabled === false) {
    skipAll(`event script ${f.script} is not enabled, so CTDB does not run the ${f.what}`)
    return undefined
  }
  const file = resolveCtdbPath(ctx, nodesVar.value, nodesVar)
  if (file === undefined) {
    ctx.diag.warn(nodesVar.file, nodesVar.line, `${f.what} nodes file ${nodesVar.value} is not in the directory (expected ${f.defaultFile}); the ${f.what} group is not imported`)
    return undefined
  }
  ctx.consumed.add(file)
  const entries = parseGroupFile(ctx.files[file], file, ctx.diag)
  const members: Loaded['members'] = []
  for (const e of entries) {
    const node = ctx.nodes.find((n) => n.address === e.address)
    if (!node) ctx.diag.warn(file, e.line, `${e.address} is not the address of any node in the nodes file, so CTDB never matches it; not imported`)
    else if (node.deleted) ctx.diag.warn(file, e.line, `${e.address} is deleted node ${node.pnn} (commented out in the nodes file); a deleted node cannot be a member, so it is not imported`)
    else members.push({pnn: node.pnn, followerOnly: e.followerOnly, line: e.line})
  }
  return {vars, file, members}
}

function memberList(ctx: Ctx, members: Loaded['members']): RawMember[] {
  return members.map((m) => (m.followerOnly ? {node: ctx.nodeName(m.pnn), followerOnly: true} : ctx.nodeName(m.pnn)))
}

function sourcesNote(ctx: Ctx, file: string, path: (string | number)[], members: Loaded['members'], vars: ShellVar[]): void {
  ctx.notes.trailing([...path, 'nodes'], formatSources(members.map((m) => ({file, line: m.line}))))
  const what = path[1] === 'natgw' ? 'NAT gateway' : 'LVS'
  ctx.notes.above(path.slice(0, 2), `${what}: from ${formatSources(vars)} (${path[1] === 'natgw' ? 'CTDB_NATGW_*' : 'CTDB_LVS_*'}) and the members in ${file}.`)
}

/** spec.natgw from CTDB_NATGW_* and the NAT gateway nodes file; undefined when off or unusable. */
export function importNatgw(ctx: Ctx, reserved: Map<string, string>): RawNatgw | undefined {
  const loaded = load(ctx, 'natgw')
  if (!loaded) return undefined
  const {vars, file} = loaded
  let members = loaded.members
  const skip = (v: ShellVar | undefined, why: string): undefined => {
    const at = v ?? vars.get('CTDB_NATGW_NODES')!
    ctx.diag.warn(at.file, at.line, `${why}; the NAT gateway group is not imported`)
    return undefined
  }
  const priv = vars.get('CTDB_NATGW_PRIVATE_NETWORK')
  const pub = vars.get('CTDB_NATGW_PUBLIC_IP')
  const iface = vars.get('CTDB_NATGW_PUBLIC_IFACE')
  const gw = vars.get('CTDB_NATGW_DEFAULT_GATEWAY')
  const routes = vars.get('CTDB_NATGW_STATIC_ROUTES')
  const privateNetwork = priv && parseCidr(priv.value)
  if (!privateNetwork) return skip(priv, priv ? `CTDB_NATGW_PRIVATE_NETWORK=${priv.value} is not NETWORK/MASKBITS` : 'CTDB_NATGW_PRIVATE_NETWORK is not set (CTDB requires it)')
  const publicAddress = pub && parseCidr(pub.value)
  if (!publicAddress) return skip(pub, pub ? `CTDB_NATGW_PUBLIC_IP=${pub.value} is not ADDRESS/MASKBITS` : 'CTDB_NATGW_PUBLIC_IP is not set (CTDB needs it on every node that may be the gateway)')
  if (!iface || !INTERFACE_NAME.test(iface.value)) return skip(iface, iface ? `CTDB_NATGW_PUBLIC_IFACE=${iface.value} is not an interface name` : 'CTDB_NATGW_PUBLIC_IFACE is not set (CTDB needs it on every node that may be the gateway)')
  const gateway = gw && gw.value !== '' ? parseIp(gw.value) : undefined
  if (gw && gw.value !== '' && !gateway) return skip(gw, `CTDB_NATGW_DEFAULT_GATEWAY=${gw.value} is not an IP address`)
  if (privateNetwork.family !== 4 || publicAddress.family !== 4 || (gateway && gateway.family !== 4)) {
    return skip(privateNetwork.family !== 4 ? priv : publicAddress.family !== 4 ? pub : gw, 'the NAT gateway works with IPv4 only')
  }
  const clash = reserved.get(publicAddress.address)
  if (clash) return skip(pub, `CTDB_NATGW_PUBLIC_IP ${publicAddress.address} is already ${clash}`)
  const staticRoutes: string[] = []
  for (const r of routes ? splitBlanks(routes.value) : []) {
    const [net, via, ...extra] = r.split('@')
    const dest = parseCidr(net)
    const viaIp = via === undefined ? undefined : parseIp(via)
    if (!dest || extra.length > 0 || (via !== undefined && !viaIp) || dest.family !== 4 || (viaIp && viaIp.family !== 4)) {
      ctx.diag.warn(routes!.file, routes!.line, `static route "${r}" is not an IPv4 NET/MASK[@GATEWAY]; not imported`)
      continue
    }
    staticRoutes.push(viaIp ? `${formatCidr(dest)}@${viaIp.address}` : formatCidr(dest))
  }
  members = members.filter((m) => {
    const node = ctx.nodes[m.pnn]
    if (cidrContains(privateNetwork, node.address)) return true
    ctx.diag.warn(file, m.line, `${node.address} is not inside CTDB_NATGW_PRIVATE_NETWORK ${formatCidr(privateNetwork)} (${priv!.file}:${priv!.line}), so its traffic cannot be routed through the gateway; not imported`)
    return false
  })
  if (members.length === 0) return skip(vars.get('CTDB_NATGW_NODES'), `${file} lists no usable node`)
  if (members.every((m) => m.followerOnly)) return skip(vars.get('CTDB_NATGW_NODES'), `every node in ${file} is follower-only, so CTDB never has a gateway`)

  const group: RawNatgw = {
    name: 'natgw',
    publicAddress: formatCidr(publicAddress),
    publicInterface: iface.value,
    privateNetwork: formatCidr(privateNetwork),
    ...(gateway ? {defaultGateway: gateway.address} : {}),
    ...(staticRoutes.length > 0 ? {staticRoutes} : {}),
    nodes: memberList(ctx, members),
  }
  sourcesNote(ctx, file, ['spec', 'natgw', 0], members, [...vars.values()])
  if (scriptEnabled(ctx, '11.natgw') === undefined) ctx.notes.above(['spec', 'natgw'], 'Whether event script 11.natgw was enabled is unknown (no events/legacy); imported as if it was.')
  if (!routes || staticRoutes.length === 0) ctx.notes.trailing(['spec', 'natgw', 0, 'privateNetwork'], 'no CTDB_NATGW_STATIC_ROUTES: routes 0.0.0.0/0, as CTDB')
  return group
}

/** spec.lvs from CTDB_LVS_* and the LVS nodes file; undefined when off or unusable. */
export function importLvs(ctx: Ctx, reserved: Map<string, string>): RawLvs | undefined {
  const loaded = load(ctx, 'lvs')
  if (!loaded) return undefined
  const {vars, file, members} = loaded
  const skip = (v: ShellVar | undefined, why: string): undefined => {
    const at = v ?? vars.get('CTDB_LVS_NODES')!
    ctx.diag.warn(at.file, at.line, `${why}; the LVS group is not imported`)
    return undefined
  }
  const ipVar = vars.get('CTDB_LVS_PUBLIC_IP')
  const iface = vars.get('CTDB_LVS_PUBLIC_IFACE')
  if (!ipVar) return skip(undefined, 'CTDB_LVS_PUBLIC_IP is not set (CTDB requires it on every member)')
  let text = ipVar.value
  if (text.includes('/')) {
    ctx.diag.warn(ipVar.file, ipVar.line, `CTDB_LVS_PUBLIC_IP is a bare address (CTDB appends /32 itself); the prefix length of ${text} is dropped`)
    text = text.slice(0, text.indexOf('/'))
  }
  const ip = parseIp(text)
  if (!ip) return skip(ipVar, `CTDB_LVS_PUBLIC_IP=${ipVar.value} is not an IP address`)
  if (!iface || !INTERFACE_NAME.test(iface.value)) return skip(iface, iface ? `CTDB_LVS_PUBLIC_IFACE=${iface.value} is not an interface name` : 'CTDB_LVS_PUBLIC_IFACE is not set (CTDB needs it on every node that may lead)')
  const clash = reserved.get(ip.address)
  if (clash) return skip(ipVar, `CTDB_LVS_PUBLIC_IP ${ip.address} is already ${clash}`)
  if (members.length === 0) return skip(vars.get('CTDB_LVS_NODES'), `${file} lists no usable node`)
  if (members.every((m) => m.followerOnly)) return skip(vars.get('CTDB_LVS_NODES'), `every node in ${file} is follower-only, so CTDB never has an LVS leader`)
  const group: RawLvs = {name: 'lvs', address: ip.address, interface: iface.value, nodes: memberList(ctx, members)}
  sourcesNote(ctx, file, ['spec', 'lvs', 0], members, [...vars.values()])
  if (scriptEnabled(ctx, '91.lvs') === undefined) ctx.notes.above(['spec', 'lvs'], 'Whether event script 91.lvs was enabled is unknown (no events/legacy); imported as if it was.')
  return group
}
