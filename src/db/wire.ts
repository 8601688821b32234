// Inter-node database messages: a JSON head and an optional binary body (record pages, keys,
// data) in one NATS payload: [u32 head length][head JSON][body]. Parsing never throws.

export type Head = Record<string, unknown>

export function frame(head: Head, body?: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(head))
  const out = Buffer.allocUnsafe(4 + json.length + (body?.length ?? 0))
  out.writeUInt32LE(json.length, 0)
  json.copy(out, 4)
  if (body) out.set(body, 4 + json.length)
  return out
}

export function unframe(data: Uint8Array): {head: Head; body: Buffer} | undefined {
  try {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    if (buf.length < 4) return undefined
    const len = buf.readUInt32LE(0)
    if (4 + len > buf.length) return undefined
    const head: unknown = JSON.parse(buf.subarray(4, 4 + len).toString('utf8'))
    if (typeof head !== 'object' || head === null || Array.isArray(head)) return undefined
    return {head: head as Head, body: buf.subarray(4 + len)}
  } catch {
    return undefined
  }
}

export class BadRequest extends Error {}

export function str(h: Head, field: string): string {
  const v = h[field]
  if (typeof v !== 'string') throw new BadRequest(`field ${field} must be a string`)
  return v
}

export function int(h: Head, field: string): number {
  const v = h[field]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BadRequest(`field ${field} must be a non-negative integer`)
  return v
}

export function ints(h: Head, field: string): number[] {
  const v = h[field]
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) throw new BadRequest(`field ${field} must be a list of non-negative integers`)
  return v as number[]
}

export function optionalB64(h: Head, field: string): Buffer | undefined {
  const v = h[field]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new BadRequest(`field ${field} must be base64`)
  return Buffer.from(v, 'base64')
}
