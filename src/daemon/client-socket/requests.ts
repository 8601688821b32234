// Field readers for request headers: a missing or mistyped field is a RequestError, which is
// answered with an error reply (the connection stays open).
import type {Header} from './framing.js'
import type {DbKind} from '../../db/api.js'
import {parseDestination, parseSrvid, type Destination} from '../../messaging/srvid.js'

export class RequestError extends Error {}

export function str(h: Header, field: string): string {
  const v = h[field]
  if (typeof v !== 'string' || v.length === 0) throw new RequestError(`"${field}" must be a non-empty string`)
  return v
}

export function int(h: Header, field: string): number {
  const v = h[field]
  if (!Number.isSafeInteger(v)) throw new RequestError(`"${field}" must be an integer`)
  return v as number
}

export function kind(h: Header): DbKind {
  const v = h.kind ?? 'volatile'
  if (v !== 'volatile' && v !== 'persistent' && v !== 'replicated') throw new RequestError('"kind" must be volatile, persistent or replicated')
  return v
}

export function srvid(h: Header): bigint {
  const v = parseSrvid(h.srvid)
  if (v === undefined) throw new RequestError('"srvid" must be a u64 as a decimal or 0x-hex string')
  return v
}

export function destination(h: Header): Destination {
  const v = parseDestination(h.dest)
  if (v === undefined) throw new RequestError('"dest" must be a pnn, current, all, active or connected')
  return v
}

export function part(parts: Buffer[], index: number, name: string): Buffer {
  const b = parts[index]
  if (!b) throw new RequestError(`binary part ${index} (${name}) is missing`)
  return b
}
