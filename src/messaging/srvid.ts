// Server ids and message destinations as CTDB defines them (core-spec §4.8).

/** Registering this srvid receives every message that reaches the node. */
export const SRVID_ALL = 0xffffffffffffffffn

export const CURRENT_NODE = 0xf0000001
export const BROADCAST_ALL = 0xf0000002
export const BROADCAST_ACTIVE = 0xf0000003
export const BROADCAST_CONNECTED = 0xf0000004

export type Destination = number | 'current' | 'all' | 'active' | 'connected'

const NAMED: Record<string, Destination> = {current: 'current', all: 'all', active: 'active', connected: 'connected'}
const BY_NUMBER: Record<number, Destination> = {[CURRENT_NODE]: 'current', [BROADCAST_ALL]: 'all', [BROADCAST_ACTIVE]: 'active', [BROADCAST_CONNECTED]: 'connected'}

/** A destination from a frame or the command line: a pnn, a name, or CTDB's numeric constants. */
export function parseDestination(v: unknown): Destination | undefined {
  if (typeof v === 'string') {
    if (v in NAMED) return NAMED[v]
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(v)) return undefined
    v = Number(v)
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) return undefined
  return BY_NUMBER[v] ?? v
}

/** A u64 srvid from a decimal or 0x-hex string, a number or a bigint; undefined when invalid. */
export function parseSrvid(v: unknown): bigint | undefined {
  let n: bigint
  try {
    if (typeof v === 'bigint') n = v
    else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v)
    else if (typeof v === 'string' && /^(0x[0-9a-f]{1,16}|\d{1,20})$/i.test(v)) n = BigInt(v)
    else return undefined
  } catch {
    return undefined
  }
  return n >= 0n && n <= SRVID_ALL ? n : undefined
}

export function formatSrvid(srvid: bigint): string {
  return `0x${srvid.toString(16).toUpperCase().padStart(16, '0')}`
}
