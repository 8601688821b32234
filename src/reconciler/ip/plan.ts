// The pure half of host IP reconciliation: from the config's public addresses, the addresses this
// node should hold, the addresses the host really has and its interfaces' link states, decide
// what to add, move and remove. No I/O here; reconciler.ts observes and acts.
//
// Rules (CTDB's TAKEOVER_IP / RELEASE_IP, core-spec §8.2 and helpers-spec §3.6, made
// level-triggered):
// - Only public addresses of the config on *managed* interfaces (every interface named by some
//   public address) are ever touched. Node addresses, link-local addresses and anything else are
//   left alone. A public address found on an unmanaged interface is reported as `foreign`.
// - Interface choice (ctdb_vnn_best_iface): among the address's configured interfaces, in
//   config order, those whose link is up; the one with the fewest public addresses on it wins,
//   the earlier one on a tie. References count the public addresses currently on the interface
//   (link up or not), updated as this plan adds, moves and removes.
// - A held address stays where it is unless its interface is down (→ moved to the best up
//   interface) or its interface has more than best + 1 references (→ moved: CTDB's rebalance,
//   applied to a fixed point so that one pass converges).
// - A desired address held nowhere is added on the best interface; with every interface down
//   it is reported unavailable (and left where it is if it sits on a down interface).
// - Removed: an address this node should not hold (on any managed interface, however it got
//   there), a copy on a managed interface that is not one of the address's interfaces, a copy
//   with the wrong prefix length, and extra copies when held on several of its interfaces.
// - Order of actions: removals, then moves, then additions (release before take, as CTDB).
import {parseIp} from '../../config/ip.js'
import type {IpFamily, PublicAddress} from '../../config/model.js'

export interface ObservedAddress {
  interface: string
  address: string
  prefixLength: number
  family?: IpFamily
}

export interface LinkState {
  name: string
  /** Administratively up and carrier present ("Link detected: yes"). */
  up: boolean
}

export interface IpPlanInput {
  /** Every public address of the config (the managed set). */
  publicAddresses: readonly PublicAddress[]
  /** The addresses this node should hold (address strings, no prefix). */
  desired: Iterable<string>
  /** Every address the host has, on every interface. */
  observed: readonly ObservedAddress[]
  /** Link states; an interface missing here counts as down. */
  links: readonly LinkState[]
}

export type RemoveReason = 'release' | 'wrong-interface' | 'wrong-prefix' | 'duplicate'
export type MoveReason = 'interface-down' | 'rebalance'

interface AddressFields {
  address: string
  prefixLength: number
  family: IpFamily
}

export type IpAction =
  | (AddressFields & {kind: 'remove'; interface: string; reason: RemoveReason})
  | (AddressFields & {kind: 'move'; from: string; to: string; reason: MoveReason})
  | (AddressFields & {kind: 'add'; interface: string; reason: 'take'})

export interface UnavailableAddress {
  address: string
  interfaces: string[]
  reason: 'all-interfaces-down'
  /** The (down) interface it still sits on, if any: left in place. */
  heldOn?: string
}

export interface PlannedInterface {
  name: string
  up: boolean
  /** Whether the host has this interface at all. */
  present: boolean
  /** Public addresses on it once the plan is carried out. */
  references: number
}

export interface IpPlan {
  actions: IpAction[]
  /** Where each managed address will be once the actions succeed (sorted by config order). */
  expected: {address: string; interface: string}[]
  unavailable: UnavailableAddress[]
  /** Desired addresses that are not public addresses of the config: ignored. */
  unknown: string[]
  /** Public addresses found on interfaces no public address names: left alone. */
  foreign: ObservedAddress[]
  /** Every managed interface (first-seen config order). */
  interfaces: PlannedInterface[]
}

/** Canonical spelling of an address (as the config uses), or undefined when unparsable. */
export function canonicalAddress(text: string): string | undefined {
  return parseIp(text)?.address
}

/** The interfaces any public address may use, in first-seen config order. */
export function managedInterfaces(publicAddresses: readonly PublicAddress[]): string[] {
  const seen = new Set<string>()
  for (const pa of publicAddresses) for (const i of pa.interfaces) seen.add(i)
  return [...seen]
}

/** ctdb_vnn_best_iface: the up interface with the fewest references, earliest on a tie. */
export function bestInterface(interfaces: readonly string[], isUp: (name: string) => boolean, references: (name: string) => number): string | undefined {
  let best: string | undefined
  for (const name of interfaces) {
    if (!isUp(name)) continue
    if (best === undefined || references(name) < references(best)) best = name
  }
  return best
}

interface Instance {
  iface: string
  prefixLength: number
}

export function planIp(input: IpPlanInput): IpPlan {
  const byAddress = new Map<string, PublicAddress>()
  for (const pa of input.publicAddresses) byAddress.set(canonicalAddress(pa.address) ?? pa.address, pa)
  const managed = managedInterfaces(input.publicAddresses)
  const managedSet = new Set(managed)
  const linkUp = new Map<string, boolean>()
  for (const l of input.links) linkUp.set(l.name, l.up)
  const isUp = (name: string) => linkUp.get(name) === true

  const desired = new Set<string>()
  const unknown: string[] = []
  for (const d of input.desired) {
    const a = canonicalAddress(d) ?? d
    if (byAddress.has(a)) desired.add(a)
    else if (!unknown.includes(d)) unknown.push(d)
  }

  // Where each public address sits now (managed interfaces only), and what is foreign.
  const instances = new Map<string, Instance[]>()
  const foreign: ObservedAddress[] = []
  for (const o of input.observed) {
    const a = canonicalAddress(o.address)
    if (a === undefined || !byAddress.has(a)) continue
    if (!managedSet.has(o.interface)) {
      foreign.push(o)
      continue
    }
    const list = instances.get(a) ?? []
    if (!list.some((i) => i.iface === o.interface && i.prefixLength === o.prefixLength)) list.push({iface: o.interface, prefixLength: o.prefixLength})
    instances.set(a, list)
  }

  const refs = new Map<string, number>()
  for (const [, list] of instances) for (const i of list) refs.set(i.iface, (refs.get(i.iface) ?? 0) + 1)
  const references = (name: string) => refs.get(name) ?? 0
  const bump = (name: string, by: number) => refs.set(name, references(name) + by)

  const removals: IpAction[] = []
  const moves: IpAction[] = []
  const adds: IpAction[] = []
  const unavailable: UnavailableAddress[] = []
  const expected = new Map<string, string>()
  const remove = (pa: PublicAddress, address: string, i: Instance, reason: RemoveReason) => {
    removals.push({kind: 'remove', address, prefixLength: i.prefixLength, family: pa.family, interface: i.iface, reason})
    bump(i.iface, -1)
  }

  // Phase 1: removals, so that the interface choice below sees the references that remain.
  const kept = new Map<string, Instance>()
  for (const pa of input.publicAddresses) {
    const address = canonicalAddress(pa.address) ?? pa.address
    const list = instances.get(address) ?? []
    if (!desired.has(address)) {
      for (const i of list) remove(pa, address, i, 'release')
      continue
    }
    const good: Instance[] = []
    for (const i of list) {
      if (!pa.interfaces.includes(i.iface)) remove(pa, address, i, 'wrong-interface')
      else if (i.prefixLength !== pa.prefixLength) remove(pa, address, i, 'wrong-prefix')
      else good.push(i)
    }
    if (good.length === 0) continue
    // Keep one copy: on an up interface if any, else the earliest in the address's list.
    const rank = (i: Instance) => (isUp(i.iface) ? 0 : 1000) + pa.interfaces.indexOf(i.iface)
    good.sort((x, y) => rank(x) - rank(y))
    kept.set(address, good[0])
    for (const extra of good.slice(1)) remove(pa, address, extra, 'duplicate')
  }

  // Phase 2: placement of every desired address, in config order.
  interface Placement {
    pa: PublicAddress
    address: string
    from?: string
    to: string
  }
  const placements: Placement[] = []
  const move = (p: Placement, to: string) => {
    bump(p.to, -1)
    bump(to, 1)
    p.to = to
  }
  for (const pa of input.publicAddresses) {
    const address = canonicalAddress(pa.address) ?? pa.address
    if (!desired.has(address)) continue
    const best = bestInterface(pa.interfaces, isUp, references)
    const current = kept.get(address)
    if (current && isUp(current.iface)) {
      placements.push({pa, address, from: current.iface, to: current.iface})
    } else if (best === undefined) {
      unavailable.push({address, interfaces: [...pa.interfaces], reason: 'all-interfaces-down', ...(current ? {heldOn: current.iface} : {})})
      if (current) expected.set(address, current.iface)
    } else if (current) {
      const p: Placement = {pa, address, from: current.iface, to: current.iface}
      move(p, best)
      placements.push(p)
    } else {
      placements.push({pa, address, to: best})
      bump(best, 1)
    }
  }
  // CTDB's rebalance (TAKEOVER_IP on an address already held): move it when its interface has
  // more than best + 1 references. Repeated to a fixed point (each move lowers the sum of
  // squared references), so that a single pass converges.
  for (let changed = true; changed; ) {
    changed = false
    for (const p of placements) {
      const best = bestInterface(p.pa.interfaces, isUp, references)
      if (best !== undefined && best !== p.to && references(p.to) > references(best) + 1) {
        move(p, best)
        changed = true
      }
    }
  }
  for (const p of placements) {
    const fields: AddressFields = {address: p.address, prefixLength: p.pa.prefixLength, family: p.pa.family}
    expected.set(p.address, p.to)
    if (p.from === undefined) adds.push({...fields, kind: 'add', interface: p.to, reason: 'take'})
    else if (p.from !== p.to) moves.push({...fields, kind: 'move', from: p.from, to: p.to, reason: isUp(p.from) ? 'rebalance' : 'interface-down'})
  }

  const hostHas = new Set(input.links.map((l) => l.name))
  return {
    actions: [...removals, ...moves, ...adds],
    expected: [...byAddress.keys()].filter((a) => expected.has(a)).map((address) => ({address, interface: expected.get(address)!})),
    unavailable,
    unknown,
    foreign,
    interfaces: managed.map((name) => ({name, up: isUp(name), present: hostHas.has(name), references: references(name)})),
  }
}
