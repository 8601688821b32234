// Address parsing for the config language, on top of ipaddr.js. Only strict spellings are
// accepted: four-part dotted decimal for IPv4, standard IPv6 (no zone), canonical output.
import ipaddr from 'ipaddr.js'
import type {Cidr, IpFamily} from './model.js'

export interface ParsedIp {
  address: string
  family: IpFamily
  bytes: number[]
}

export function parseIp(text: string): ParsedIp | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const ip = ipaddr.IPv4.parse(text)
    return {address: ip.toString(), family: 4, bytes: ip.toByteArray()}
  }
  if (!text.includes('%') && ipaddr.IPv6.isValid(text)) {
    const ip = ipaddr.IPv6.parse(text)
    if (ip.isIPv4MappedAddress()) return undefined
    return {address: ip.toString(), family: 6, bytes: ip.toByteArray()}
  }
  return undefined
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/')
  if (slash < 0) return undefined
  const ip = parseIp(text.slice(0, slash))
  const bits = text.slice(slash + 1)
  if (!ip || !/^(0|[1-9]\d{0,2})$/.test(bits)) return undefined
  const prefixLength = Number(bits)
  if (prefixLength > (ip.family === 4 ? 32 : 128)) return undefined
  return {address: ip.address, prefixLength, family: ip.family}
}

export function formatCidr(c: Cidr): string {
  return `${c.address}/${c.prefixLength}`
}

/** True when `address` lies inside the network `net` (same family). */
export function cidrContains(net: Cidr, address: string): boolean {
  const a = parseIp(address)
  const n = parseIp(net.address)
  if (!a || !n || a.family !== n.family) return false
  return prefixMatches(a.bytes, n.bytes, net.prefixLength)
}

/** True when every host bit of the CIDR is zero (it names a network, not a host). */
export function isNetworkAddress(c: Cidr): boolean {
  const bytes = parseIp(c.address)!.bytes
  const total = bytes.length * 8
  if (c.prefixLength >= total - 1) return false
  for (let bit = c.prefixLength; bit < total; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) return false
  }
  return true
}

/** The first host address of the network a CIDR belongs to (network address + 1). */
export function firstHost(c: Cidr): string {
  const bytes = parseIp(c.address)!.bytes
  for (let bit = c.prefixLength; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7))
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = (bytes[i] + 1) & 0xff
    if (bytes[i] !== 0) break
  }
  return c.family === 4 ? bytes.join('.') : ipaddr.fromByteArray(bytes).toString()
}

function prefixMatches(a: number[], b: number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit++) {
    const mask = 0x80 >> (bit & 7)
    if ((a[bit >> 3] & mask) !== (b[bit >> 3] & mask)) return false
  }
  return true
}
