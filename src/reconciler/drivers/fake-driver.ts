// An in-memory IP driver for users without root (the demo's fallback, unit tests): it keeps a
// simulated host (interfaces, link states, addresses) and records every call. It never touches
// the system, and system tests never use it.
import {parseIp} from '../../config/ip.js'
import type {AddressOnInterface, Announcement, HostAddress, HostLink, IpDriver} from './ip-driver.js'

export type FakeCall =
  | {op: 'listAddresses' | 'linkStates'; at: number}
  | {op: 'addAddress' | 'removeAddress'; at: number; args: AddressOnInterface}
  | {op: 'announce'; at: number; args: Announcement}

export type FakeOp = FakeCall['op']

export interface FakeInterface {
  name: string
  up?: boolean
  mac?: string
  /** Addresses already there (node addresses, say), as CIDR strings. */
  addresses?: string[]
}

export class FakeIpDriver implements IpDriver {
  readonly name = 'fake'
  /** Every call, in order. */
  readonly calls: FakeCall[] = []
  private readonly links = new Map<string, HostLink>()
  private readonly addrs: HostAddress[] = []
  private readonly failures = new Map<FakeOp, Error[]>()

  constructor(interfaces: FakeInterface[] = []) {
    for (const i of interfaces) {
      this.addInterface(i)
    }
  }

  addInterface(i: FakeInterface): void {
    const up = i.up ?? true
    this.links.set(i.name, {name: i.name, up, adminUp: up, carrier: up, mac: i.mac ?? fakeMac(this.links.size + 1)})
    for (const cidr of i.addresses ?? []) this.hostAdd(i.name, cidr)
  }

  /** Simulates a link change (cable pulled, `ip link set … down`). */
  setLink(name: string, up: boolean): void {
    const l = this.links.get(name)
    if (!l) throw new Error(`fake driver: no interface ${name}`)
    Object.assign(l, {up, adminUp: up, carrier: up})
  }

  /** Simulates an address added by hand (not recorded as a call). */
  hostAdd(iface: string, cidr: string): void {
    const [text, bits] = cidr.split('/')
    const p = parseIp(text)
    if (!p) throw new Error(`fake driver: bad address ${cidr}`)
    const prefixLength = Number(bits ?? (p.family === 4 ? 32 : 128))
    if (!this.addrs.some((a) => a.interface === iface && a.address === p.address && a.prefixLength === prefixLength)) this.addrs.push({interface: iface, address: p.address, prefixLength, family: p.family})
  }

  /** Simulates an address removed by hand (not recorded as a call). */
  hostRemove(iface: string, address: string): void {
    const canonical = parseIp(address)?.address ?? address
    for (let i = this.addrs.length - 1; i >= 0; i--) if (this.addrs[i].interface === iface && this.addrs[i].address === canonical) this.addrs.splice(i, 1)
  }

  /** The next call of `op` rejects with `error` (queue several for several calls). */
  failNext(op: FakeOp, error: Error = new Error(`fake ${op} failure`)): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), error])
  }

  /** Addresses currently on `iface` (or everywhere), as CIDR strings. */
  addressesOn(iface?: string): string[] {
    return this.addrs.filter((a) => iface === undefined || a.interface === iface).map((a) => `${a.address}/${a.prefixLength}`)
  }

  callsOf<T extends FakeOp>(op: T): Extract<FakeCall, {op: T}>[] {
    return this.calls.filter((c): c is Extract<FakeCall, {op: T}> => c.op === op)
  }

  private check(op: FakeOp): void {
    const queue = this.failures.get(op)
    const e = queue?.shift()
    if (e) throw e
  }

  async listAddresses(): Promise<HostAddress[]> {
    this.calls.push({op: 'listAddresses', at: Date.now()})
    this.check('listAddresses')
    return this.addrs.map((a) => ({...a}))
  }

  async linkStates(): Promise<HostLink[]> {
    this.calls.push({op: 'linkStates', at: Date.now()})
    this.check('linkStates')
    return [...this.links.values()].map((l) => ({...l}))
  }

  async addAddress(a: AddressOnInterface): Promise<void> {
    this.calls.push({op: 'addAddress', at: Date.now(), args: {...a}})
    this.check('addAddress')
    if (!this.links.has(a.interface)) throw new Error(`fake driver: Cannot find device "${a.interface}"`)
    this.hostAdd(a.interface, `${a.address}/${a.prefixLength}`)
  }

  async removeAddress(a: AddressOnInterface): Promise<void> {
    this.calls.push({op: 'removeAddress', at: Date.now(), args: {...a}})
    this.check('removeAddress')
    const i = this.addrs.findIndex((h) => h.interface === a.interface && h.address === a.address && h.prefixLength === a.prefixLength)
    if (i >= 0) this.addrs.splice(i, 1)
  }

  async announce(a: Announcement): Promise<void> {
    this.calls.push({op: 'announce', at: Date.now(), args: {...a}})
    this.check('announce')
  }
}

function fakeMac(n: number): string {
  return `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`
}
