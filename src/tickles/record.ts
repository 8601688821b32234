// The replicated tickle list of one public address: a JSON value in the `<cluster>_tickles` KV
// bucket under a key derived from the address. The decoder never throws: a value that is not a
// record is rejected with a reason, and entries that do not parse are dropped and counted.
import {canonicalIp, compareConnections, formatEndpoint, parseEndpoint, type TrackedConnection} from './connections.js'

export interface TickleRecord {
  v: 1
  /** The public address (canonical). */
  address: string
  /** The node that reported the list (the holder at the time). */
  pnn: number
  /** ISO time of the scan. */
  time: string
  connections: TrackedConnection[]
}

export type DecodedRecord = {record: TickleRecord; dropped: number} | {error: string}

/** KV keys allow `[-/_=.a-zA-Z0-9]`: IPv6 colons become `_` (`fd00::1` → `fd00__1`). */
export function tickleKey(address: string): string {
  return address.replaceAll(':', '_')
}

export function encodeRecord(record: TickleRecord): string {
  return JSON.stringify(record)
}

/**
 * NATS refuses messages above its max_payload (1 MB by default): a list that would not fit keeps
 * its first connections up to `maxBytes` (about 15,000 IPv4 connections per MB).
 */
export function fitRecord(record: TickleRecord, maxBytes: number): {record: TickleRecord; dropped: number} {
  const size = Buffer.byteLength(encodeRecord(record))
  if (size <= maxBytes) return {record, dropped: 0}
  const overhead = Buffer.byteLength(encodeRecord({...record, connections: []}))
  const per = (size - overhead) / record.connections.length
  let keep = Math.max(0, Math.floor((maxBytes - overhead) / per))
  while (keep > 0 && Buffer.byteLength(encodeRecord({...record, connections: record.connections.slice(0, keep)})) > maxBytes) keep = Math.floor(keep * 0.95)
  return {record: {...record, connections: record.connections.slice(0, keep)}, dropped: record.connections.length - keep}
}

export function decodeRecord(data: Uint8Array | string): DecodedRecord {
  let value: unknown
  try {
    value = JSON.parse(typeof data === 'string' ? data : new TextDecoder('utf-8', {fatal: true}).decode(data))
  } catch (e) {
    return {error: `not JSON (${(e as Error).message})`}
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {error: 'not a JSON object'}
  const r = value as Record<string, unknown>
  if (r.v !== 1) return {error: `unknown version ${JSON.stringify(r.v)}`}
  const address = typeof r.address === 'string' ? canonicalIp(r.address) : undefined
  if (!address) return {error: `bad address ${JSON.stringify(r.address)}`}
  if (!Number.isSafeInteger(r.pnn) || (r.pnn as number) < 0) return {error: `bad pnn ${JSON.stringify(r.pnn)}`}
  if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time))) return {error: `bad time ${JSON.stringify(r.time)}`}
  if (!Array.isArray(r.connections)) return {error: 'connections is not a list'}
  const connections: TrackedConnection[] = []
  let dropped = 0
  for (const c of r.connections as unknown[]) {
    const ok = validConnection(c, address)
    if (ok) connections.push(ok)
    else dropped++
  }
  return {record: {v: 1, address, pnn: r.pnn as number, time: r.time, connections: connections.sort(compareConnections)}, dropped}
}

function validConnection(c: unknown, address: string): TrackedConnection | undefined {
  if (typeof c !== 'object' || c === null) return undefined
  const {client, public: pub} = c as Record<string, unknown>
  if (typeof client !== 'string' || typeof pub !== 'string') return undefined
  try {
    const a = parseEndpoint(client)
    const b = parseEndpoint(pub)
    if (a.family !== b.family || b.address !== address) return undefined
    return {client: formatEndpoint(a), public: formatEndpoint(b)}
  } catch {
    return undefined
  }
}
