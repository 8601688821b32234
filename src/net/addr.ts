// Socket addresses as CTDB writes them: `a.b.c.d:port` for IPv4, `[v6addr]:port` for IPv6 (a bare
// IPv6 address followed by `:port` also parses, because the last `:` separates the port, as in
// CTDB's ctdb_sock_addr_from_string). IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) become IPv4.
// Addresses are validated with inet_pton's strictness (node:net), so `01.2.3.4`, `1.2.3` or zone
// indices (`fe80::1%eth0`) are rejected.
import {isIPv4, isIPv6} from 'node:net'
import ipaddr from 'ipaddr.js'

export interface SockAddr {
  family: 4 | 6
  /** Canonical text: dotted quad, or RFC 5952 IPv6. */
  address: string
  /** 4 or 16 bytes, network order. */
  bytes: Buffer
  port: number
}

export class AddressError extends Error {}

/** Parses an IP address without a port; throws AddressError. */
export function parseIp(text: string): Pick<SockAddr, 'family' | 'address' | 'bytes'> {
  let s = text
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1)
  if (isIPv4(s)) {
    const bytes = Buffer.from(s.split('.').map(Number))
    return {family: 4, address: s, bytes}
  }
  if (!s.includes('%') && isIPv6(s)) {
    const ip = ipaddr.IPv6.parse(s)
    if (ip.isIPv4MappedAddress()) {
      const v4 = ip.toIPv4Address()
      return {family: 4, address: v4.toString(), bytes: Buffer.from(v4.toByteArray())}
    }
    return {family: 6, address: ip.toRFC5952String(), bytes: Buffer.from(ip.toByteArray())}
  }
  throw new AddressError(`invalid IP address '${text}'`)
}

/** Parses `ip:port` / `[ipv6]:port`; throws AddressError with a short reason. */
export function parseSockAddr(text: string): SockAddr {
  const colon = text.lastIndexOf(':')
  if (colon < 0) throw new AddressError(`missing ':port' in '${text}'`)
  const portText = text.slice(colon + 1)
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) throw new AddressError(`invalid port '${portText}' in '${text}'`)
  const host = text.slice(0, colon)
  if (host.startsWith('[') !== host.endsWith(']')) throw new AddressError(`unbalanced brackets in '${text}'`)
  let ip: ReturnType<typeof parseIp>
  try {
    ip = parseIp(host)
  } catch {
    throw new AddressError(`invalid IP address '${host}' in '${text}'`)
  }
  return {...ip, port: Number(portText)}
}

/** `a.b.c.d:port` or `[v6]:port`, as CTDB prints socket addresses. */
export function formatSockAddr(a: SockAddr): string {
  return a.family === 4 ? `${a.address}:${a.port}` : `[${a.address}]:${a.port}`
}

/** Text form of raw address bytes (4 or 16). */
export function formatIpBytes(bytes: Buffer): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`
  return ipaddr.fromByteArray([...bytes]).toString()
}

export function isLinkLocal(a: Pick<SockAddr, 'family' | 'bytes'>): boolean {
  return a.family === 6 && a.bytes[0] === 0xfe && (a.bytes[1] & 0xc0) === 0x80
}
