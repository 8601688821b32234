// The change set between two normalised cluster configs (issue 4): typed changes in the
// config language's own terms, plus the changes that are unsafe or impossible. Pure.
//
// Identity: a node is its pnn, a public address its (canonical) address, groups, databases and
// services their name; cluster lock, NATS settings, IP allocation settings, tunables and the
// event script directory are singletons. Values in `details` are written as in the config file
// (node names rather than pnns, durations as "250ms", CIDRs as "a/p"), so a change reads like
// the diff of the YAML it comes from.

import {formatDuration} from '../../config/duration.js'
import type {
  ClusterConfig,
  ClusterLock,
  GroupMember,
  LvsGroup,
  NatgwGroup,
  NodeConfig,
  PublicAddress,
  ServiceConfig,
  Tunables,
} from '../../config/model.js'

/** A JSON value as it appears in `details`. */
export type Value = string | number | boolean | null | Value[] | {[key: string]: Value}

export type ChangeAction = 'add' | 'change' | 'remove'

export const CHANGE_KINDS = [
  'cluster',
  'nats',
  'clusterLock',
  'node',
  'publicAddress',
  'ipAllocation',
  'natgw',
  'lvs',
  'database',
  'service',
  'eventScripts',
  'tunables',
] as const
export type ChangeKind = (typeof CHANGE_KINDS)[number]

export interface FieldChange {
  /** Dotted path in the config language (`capabilities.leader`, `monitor.interval`, `keepaliveInterval`). */
  field: string
  /** null when the field is absent on that side. */
  old: Value
  new: Value
}

export interface Change {
  action: ChangeAction
  kind: ChangeKind
  /** Node name, address, group / database / service name, or the singleton's kind. */
  id: string
  /** Nodes only: the node's identity. */
  pnn?: number
  details: FieldChange[]
}

export const UNSAFE_RULES = [
  'cluster-renamed',
  'pnn-renumbered',
  'pnn-reused',
  'node-undeleted',
  'node-removed',
  'deleted-node-removed',
  'node-address-changed',
  'database-kind-changed',
] as const
export type UnsafeRule = (typeof UNSAFE_RULES)[number]

/** A change that cannot be applied; the plan is an error while it has one. */
export interface UnsafeChange {
  kind: 'unsafe'
  rule: UnsafeRule
  /** What the change is about. */
  subject: {kind: ChangeKind; id: string; pnn?: number}
  /** One sentence: what is wrong and what to do instead. */
  reason: string
}

export interface ChangeSet {
  /** Changes in display order: by kind (CHANGE_KINDS), then file order (removals last). */
  changes: Change[]
  unsafe: UnsafeChange[]
}

export interface ChangeCounts {
  add: number
  change: number
  remove: number
}

export function countChanges(changes: readonly Change[]): ChangeCounts {
  const counts: ChangeCounts = {add: 0, change: 0, remove: 0}
  for (const c of changes) counts[c.action]++
  return counts
}

// ---------------------------------------------------------------------------------------------
// Views: each entity as a flat record field → value, in the config language.

type View = Record<string, Value>

function clean(view: Record<string, Value | undefined>): View {
  const out: View = {}
  for (const [k, v] of Object.entries(view)) if (v !== undefined) out[k] = v
  return out
}

type Names = (pnn: number) => string

function namesOf(config: ClusterConfig): Names {
  const byPnn = new Map(config.nodes.map((n) => [n.pnn, n.name]))
  return (pnn) => byPnn.get(pnn) ?? `pnn ${pnn}`
}

function memberValue(m: GroupMember, name: Names): Value {
  return m.followerOnly ? {node: name(m.pnn), followerOnly: true} : name(m.pnn)
}

function nodeView(n: NodeConfig): View {
  return {
    address: n.address,
    'capabilities.leader': n.capabilities.leader,
    'capabilities.lmaster': n.capabilities.lmaster,
    deleted: n.deleted,
  }
}

function addressView(a: PublicAddress, name: Names): View {
  return clean({
    prefixLength: a.prefixLength,
    interfaces: [...a.interfaces],
    nodes: a.nodes?.map(name),
  })
}

function natgwView(g: NatgwGroup, name: Names): View {
  return clean({
    publicAddress: `${g.publicAddress.address}/${g.publicAddress.prefixLength}`,
    publicInterface: g.publicInterface,
    privateNetwork: `${g.privateNetwork.address}/${g.privateNetwork.prefixLength}`,
    defaultGateway: g.defaultGateway,
    staticRoutes: g.staticRoutes.map((r) => `${r.destination.address}/${r.destination.prefixLength}${r.gateway === undefined ? '' : `@${r.gateway}`}`),
    nodes: g.nodes.map((m) => memberValue(m, name)),
  })
}

function lvsView(g: LvsGroup, name: Names): View {
  return {address: g.address, interface: g.interface, nodes: g.nodes.map((m) => memberValue(m, name))}
}

function lockView(l: ClusterLock): View {
  switch (l.type) {
    case 'nats-kv':
      return {type: l.type, ttl: formatDuration(l.ttlMs)}
    case 'fcntl':
      return {type: l.type, path: l.path, recheckInterval: formatDuration(l.recheckIntervalMs)}
    case 'helper':
      return {type: l.type, command: [...l.command]}
    case 'none':
      return {type: l.type}
  }
}

function serviceView(s: ServiceConfig): View {
  return clean({
    'monitor.command': s.monitor ? [...s.monitor.command] : undefined,
    'monitor.interval': s.monitor ? formatDuration(s.monitor.intervalMs) : undefined,
    'monitor.timeout': s.monitor ? formatDuration(s.monitor.timeoutMs) : undefined,
    'monitor.failures': s.monitor?.failures,
    start: s.start ? [...s.start] : undefined,
    stop: s.stop ? [...s.stop] : undefined,
    nfsCallout: s.nfsCallout,
  })
}

/** Tunables under their config names; durations spelt as in the config. */
export const TUNABLE_FIELDS: readonly {name: string; key: keyof Tunables; duration: boolean}[] = [
  {name: 'keepaliveInterval', key: 'keepaliveIntervalMs', duration: true},
  {name: 'keepaliveLimit', key: 'keepaliveLimit', duration: false},
  {name: 'monitorInterval', key: 'monitorIntervalMs', duration: true},
  {name: 'eventScriptTimeout', key: 'eventScriptTimeoutMs', duration: true},
  {name: 'recoveryTimeout', key: 'recoveryTimeoutMs', duration: true},
  {name: 'takeoverTimeout', key: 'takeoverTimeoutMs', duration: true},
  {name: 'banPeriod', key: 'banPeriodMs', duration: true},
  {name: 'tickleUpdateInterval', key: 'tickleUpdateIntervalMs', duration: true},
  {name: 'tickles', key: 'tickles', duration: false},
  {name: 'tickleScanInterval', key: 'tickleScanIntervalMs', duration: true},
]

function tunablesView(t: Tunables): View {
  const out: View = {}
  for (const f of TUNABLE_FIELDS) {
    const v = t[f.key]
    out[f.name] = f.duration && typeof v === 'number' ? formatDuration(v) : v
  }
  return out
}

function natsView(c: ClusterConfig): View {
  return clean({
    servers: [...c.nats.servers],
    credentials: c.nats.credentials,
    'tls.ca': c.nats.tls?.ca,
    'tls.cert': c.nats.tls?.cert,
    'tls.key': c.nats.tls?.key,
  })
}

function ipAllocationView(c: ClusterConfig): View {
  const a = c.ipAllocation
  return {algorithm: a.algorithm, failback: a.failback, takeover: a.takeover, hostOnAllDisabled: a.hostOnAllDisabled}
}

// ---------------------------------------------------------------------------------------------
// Generic comparison.

export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true
  if (a === null || b === null || a === undefined || b === undefined || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]))
  const ao = a as Record<string, Value>
  const bo = b as Record<string, Value>
  const keys = Object.keys(ao)
  return keys.length === Object.keys(bo).length && keys.every((k) => k in bo && sameValue(ao[k], bo[k]))
}

/** Field differences, in the new view's field order, then fields only the old view has. */
function diffViews(oldView: View | null, newView: View | null): FieldChange[] {
  const fields = [...Object.keys(newView ?? {})]
  for (const k of Object.keys(oldView ?? {})) if (!fields.includes(k)) fields.push(k)
  const out: FieldChange[] = []
  for (const field of fields) {
    const o = oldView?.[field] ?? null
    const n = newView?.[field] ?? null
    if (!sameValue(o, n)) out.push({field, old: o, new: n})
  }
  return out
}

interface Keyed<T> {
  id: string
  item: T
}

/**
 * Pairs entities of both sides by id: entries of the new list in its order, then those only the
 * old list has, in its order.
 */
function pair<T>(oldList: readonly Keyed<T>[], newList: readonly Keyed<T>[]): {id: string; old?: T; new?: T}[] {
  const oldById = new Map(oldList.map((e) => [e.id, e.item]))
  const newIds = new Set(newList.map((e) => e.id))
  return [
    ...newList.map((e) => ({id: e.id, old: oldById.get(e.id), new: e.item})),
    ...oldList.filter((e) => !newIds.has(e.id)).map((e) => ({id: e.id, old: e.item})),
  ]
}

function entityChange(kind: ChangeKind, id: string, oldView: View | null, newView: View | null): Change | null {
  const details = diffViews(oldView, newView)
  if (details.length === 0) return null
  const action: ChangeAction = oldView === null ? 'add' : newView === null ? 'remove' : 'change'
  return {action, kind, id, details}
}

// ---------------------------------------------------------------------------------------------

/**
 * The changes that turn `base` into `next`; `base` null is an empty cluster (everything is an
 * add). Both configs must be valid and normalised.
 */
export function diffConfigs(base: ClusterConfig | null, next: ClusterConfig): ChangeSet {
  const changes: Change[] = []
  const unsafe: UnsafeChange[] = []
  const push = (c: Change | null) => {
    if (c) changes.push(c)
  }
  const oldName: Names = base ? namesOf(base) : () => ''
  const newName = namesOf(next)

  // Cluster identity.
  if (base === null) {
    push(entityChange('cluster', next.name, null, {apiVersion: next.apiVersion}))
  } else if (base.name !== next.name) {
    unsafe.push({
      kind: 'unsafe',
      rule: 'cluster-renamed',
      subject: {kind: 'cluster', id: next.name},
      reason: `the cluster is renamed from "${base.name}" to "${next.name}": the name namespaces every NATS subject and bucket of the running cluster, so a renamed cluster is a new cluster; keep metadata.name "${base.name}"`,
    })
  }

  // Singletons.
  push(entityChange('nats', 'nats', base ? natsView(base) : null, natsView(next)))
  push(entityChange('clusterLock', 'clusterLock', base ? lockView(base.clusterLock) : null, lockView(next.clusterLock)))

  // Nodes.
  diffNodes(base?.nodes ?? [], next.nodes, changes, unsafe)

  // Public addresses.
  const addrs = pair(
    (base?.publicAddresses ?? []).map((a) => ({id: a.address, item: a})),
    next.publicAddresses.map((a) => ({id: a.address, item: a})),
  )
  for (const p of addrs) {
    push(entityChange('publicAddress', p.id, p.old ? addressView(p.old, oldName) : null, p.new ? addressView(p.new, newName) : null))
  }

  push(entityChange('ipAllocation', 'ipAllocation', base ? ipAllocationView(base) : null, ipAllocationView(next)))

  for (const p of pair((base?.natgw ?? []).map(named), next.natgw.map(named))) {
    push(entityChange('natgw', p.id, p.old ? natgwView(p.old, oldName) : null, p.new ? natgwView(p.new, newName) : null))
  }
  for (const p of pair((base?.lvs ?? []).map(named), next.lvs.map(named))) {
    push(entityChange('lvs', p.id, p.old ? lvsView(p.old, oldName) : null, p.new ? lvsView(p.new, newName) : null))
  }

  for (const p of pair((base?.databases ?? []).map(named), next.databases.map(named))) {
    const c = entityChange('database', p.id, p.old ? {kind: p.old.kind} : null, p.new ? {kind: p.new.kind} : null)
    push(c)
    if (p.old && p.new && p.old.kind !== p.new.kind) {
      unsafe.push({
        kind: 'unsafe',
        rule: 'database-kind-changed',
        subject: {kind: 'database', id: p.id},
        reason: `database ${p.id} changes kind from ${p.old.kind} to ${p.new.kind}: its records cannot be converted in place; add a database with a new name instead`,
      })
    }
  }

  for (const p of pair((base?.services ?? []).map(named), next.services.map(named))) {
    push(entityChange('service', p.id, p.old ? serviceView(p.old) : null, p.new ? serviceView(p.new) : null))
  }

  const scripts = (c: ClusterConfig | null): View | null => (c?.eventScripts === undefined ? null : {path: c.eventScripts})
  push(entityChange('eventScripts', 'eventScripts', scripts(base), scripts(next)))

  push(entityChange('tunables', 'tunables', base ? tunablesView(base.tunables) : null, tunablesView(next.tunables)))

  const rank = (k: ChangeKind) => CHANGE_KINDS.indexOf(k)
  // Stable sort: file order within a kind.
  changes.sort((a, b) => rank(a.kind) - rank(b.kind))
  return {changes, unsafe}
}

const named = <T extends {name: string}>(item: T): Keyed<T> => ({id: item.name, item})

/**
 * Nodes are identified by pnn, which is forever: a pnn never changes owner, never disappears from
 * the file and never comes back once deleted. A node leaves the cluster by being marked
 * `deleted: true` (a "remove").
 */
function diffNodes(oldNodes: readonly NodeConfig[], newNodes: readonly NodeConfig[], changes: Change[], unsafe: UnsafeChange[]): void {
  const oldByPnn = new Map(oldNodes.map((n) => [n.pnn, n]))
  const newByPnn = new Map(newNodes.map((n) => [n.pnn, n]))
  const oldByName = new Map(oldNodes.map((n) => [n.name, n]))
  const involved = new Set<number>() // pnns already reported as renumbered (both sides)
  const report = (rule: UnsafeRule, node: NodeConfig, reason: string) =>
    unsafe.push({kind: 'unsafe', rule, subject: {kind: 'node', id: node.name, pnn: node.pnn}, reason})

  // Same name, different pnn.
  for (const n of newNodes) {
    const before = oldByName.get(n.name)
    if (before && before.pnn !== n.pnn) {
      report('pnn-renumbered', n, `node ${n.name} is renumbered from pnn ${before.pnn} to pnn ${n.pnn}: a node's pnn is its identity and never changes; give ${n.name} pnn ${before.pnn} again`)
      involved.add(before.pnn)
      involved.add(n.pnn)
    }
  }

  const pnns = [...new Set([...newNodes.map((n) => n.pnn), ...oldNodes.map((n) => n.pnn)])]
  // New order first (sorted by pnn), then pnns only the old file has.
  for (const pnn of pnns) {
    if (involved.has(pnn)) continue
    const before = oldByPnn.get(pnn)
    const after = newByPnn.get(pnn)
    if (!before && after) {
      const view = nodeView(after)
      if (!after.deleted) delete view.deleted
      changes.push({action: 'add', kind: 'node', id: after.name, pnn, details: diffViews(null, view)})
      continue
    }
    if (before && !after) {
      if (before.deleted) {
        report('deleted-node-removed', before, `the entry of deleted node ${before.name} (pnn ${pnn}) is removed: deleted nodes stay in the file forever so that pnn ${pnn} is never reused; put the entry back with deleted: true`)
      } else {
        report('node-removed', before, `node ${before.name} (pnn ${pnn}) is removed from the file: a node leaves the cluster by being marked deleted: true (and pnn ${pnn} stays reserved); put it back with deleted: true`)
      }
      continue
    }
    if (!before || !after) continue
    if (before.name !== after.name) {
      report('pnn-reused', after, before.deleted
        ? `pnn ${pnn} belonged to deleted node ${before.name} and now names ${after.name}: a deleted pnn is never reused; give ${after.name} a new pnn and keep ${before.name} with deleted: true`
        : `pnn ${pnn} belonged to ${before.name} and now names ${after.name}: a pnn always names the same node; give ${after.name} a new pnn and mark ${before.name} deleted: true to retire it`)
      continue
    }
    if (before.deleted && !after.deleted) {
      report('node-undeleted', after, `node ${after.name} (pnn ${pnn}) was deleted and comes back: a deleted pnn is never reused; keep it deleted and add the machine as a new node (new pnn and name)`)
      continue
    }
    const details = diffViews(nodeView(before), nodeView(after))
    if (details.length === 0) continue
    const action: ChangeAction = !before.deleted && after.deleted ? 'remove' : 'change'
    changes.push({action, kind: 'node', id: after.name, pnn, details})
    if (!before.deleted && !after.deleted && before.address !== after.address) {
      report('node-address-changed', after, `node ${after.name} (pnn ${pnn}) changes address from ${before.address} to ${after.address}: as CTDB ("Node ${pnn} has changed IP address"), a node keeps its address for life; mark ${after.name} deleted: true and add the machine as a new node (new pnn and name)`)
    }
  }
}
