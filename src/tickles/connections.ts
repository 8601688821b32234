// Tracked client connections of public addresses ("tickles", helpers-spec §3.5) and the pure
// decisions made from them: what `ss` says is established, which packets a release sends
// (10.interface's kill rules, §3.4) and which a takeover sends (§3.6). Explicit names instead of
// CTDB's src/dst slots (§3.1): `client` is the remote end, `public` the public address and port.
import {parseIp, parseSockAddr, type SockAddr} from '../net/addr.js'
import type {KillConnection} from '../net/connections.js'

export interface TrackedConnection {
  /** Remote end, `ip:port` / `[v6]:port` as CTDB prints it. */
  client: string
  /** Public address and local port. */
  public: string
}

/** One end of a connection as text: canonical address, port. */
export interface EndpointText {
  family: 4 | 6
  address: string
  port: number
}

/** A connection of this host: `local` is this host's end. */
export interface EstablishedConnection {
  local: EndpointText
  peer: EndpointText
}

const V4 = /^((?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}):([0-9]{1,5})$/

/**
 * Parses `ip:port` / `[v6]:port` like parseSockAddr (throws AddressError), with a fast path for
 * plain dotted quads: a scan of a busy host parses every connection every few seconds.
 */
export function parseEndpoint(text: string): EndpointText {
  const m = V4.exec(text)
  if (m && Number(m[2]) <= 65535) return {family: 4, address: m[1], port: Number(m[2])}
  const a = parseSockAddr(text)
  return {family: a.family, address: a.address, port: a.port}
}

export function formatEndpoint(e: EndpointText): string {
  return e.family === 4 ? `${e.address}:${e.port}` : `[${e.address}]:${e.port}`
}

/** SMB ports: releaseip resets only the local end; the client is reset by the takeover's tickles. */
export const ONE_WAY_PORTS: ReadonlySet<number> = new Set([139, 445])

/**
 * Parses `ss -tnH state established` output: columns Recv-Q, Send-Q, local, peer (the state
 * column is absent when a state filter is given). Lines that do not parse (zone indices, a
 * future format) are skipped: a connection we cannot read is one we cannot tickle anyway.
 */
export function parseSsEstablished(text: string): EstablishedConnection[] {
  const out: EstablishedConnection[] = []
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/)
    if (cols.length < 4 || !/^[0-9]+$/.test(cols[0]) || !/^[0-9]+$/.test(cols[1])) continue
    try {
      const local = parseEndpoint(cols[2])
      const peer = parseEndpoint(cols[3])
      if (local.family === peer.family) out.push({local, peer})
    } catch {
      // skipped, see above
    }
  }
  return out
}

/** Canonical text of an IP address, or undefined when it is not one. */
export function canonicalIp(text: string): string | undefined {
  try {
    return parseIp(text).address
  } catch {
    return undefined
  }
}

/** The established connections whose local address is `address` (canonical), sorted, distinct. */
export function connectionsOf(established: readonly EstablishedConnection[], address: string): TrackedConnection[] {
  const seen = new Map<string, TrackedConnection>()
  for (const c of established) {
    if (c.local.address !== address) continue
    const t = {client: formatEndpoint(c.peer), public: formatEndpoint(c.local)}
    seen.set(`${t.client} ${t.public}`, t)
  }
  return [...seen.values()].sort(compareConnections)
}

export function compareConnections(a: TrackedConnection, b: TrackedConnection): number {
  return cmp(a.public, b.public) || cmp(a.client, b.client)
}

const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0)

export function sameConnections(a: readonly TrackedConnection[], b: readonly TrackedConnection[]): boolean {
  return a.length === b.length && a.every((c, i) => c.client === b[i].client && c.public === b[i].public)
}

/**
 * killtcp input for releasing an address (10.interface's kill_tcp_connections): every
 * connection's local end is reset by impersonating the client; the client is also reset by
 * impersonating the public end, except on ports 139 and 445 (or when `oneWay`).
 */
export function releaseKillList(connections: readonly TrackedConnection[], oneWay = false): KillConnection[] {
  const out: KillConnection[] = []
  for (const c of connections) {
    const pub = parseSockAddr(c.public)
    const client = parseSockAddr(c.client)
    out.push({impersonate: client, reset: pub})
    if (!oneWay && !ONE_WAY_PORTS.has(pub.port)) out.push({impersonate: pub, reset: client})
  }
  return out
}

/** The tickle ACKs a takeover sends: to each client, from the public end (the `ctdb tickle` direction). */
export function takeoverTickles(connections: readonly TrackedConnection[], address: string): Array<{from: SockAddr; to: SockAddr}> {
  const out: Array<{from: SockAddr; to: SockAddr}> = []
  for (const c of connections) {
    let from: SockAddr
    let to: SockAddr
    try {
      from = parseSockAddr(c.public)
      to = parseSockAddr(c.client)
    } catch {
      continue
    }
    if (from.address !== address || from.family !== to.family) continue
    out.push({from, to})
  }
  return out
}
