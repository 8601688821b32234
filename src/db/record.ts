// Stored values: CTDB's 24-byte record header (core-spec §4.2) followed by the data, and the
// binary record pages used for bulk transfer (recovery pull/push, traverse, transaction batches).
import type {RecordHeader} from './api.js'

export const HEADER_SIZE = 24
export const FLAG_PERSISTENT = 0x1
export const FLAG_MIGRATED_WITH_DATA = 0x10000
/** The key of a persistent database's sequence number record (includes CTDB's trailing NUL). */
export const SEQNUM_KEY = Buffer.from('__db_sequence_number__\0', 'latin1')

export interface StoredRecord {
  header: RecordHeader
  /** Free 32-bit field (CTDB's reserved1): the commit id of a transaction's seqnum record. */
  reserved: number
  data: Buffer
}

export function encodeValue(header: RecordHeader, data: Buffer, reserved = 0): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + data.length)
  out.writeUInt32LE(header.rsn % 0x100000000, 0)
  out.writeUInt32LE(Math.floor(header.rsn / 0x100000000), 4)
  out.writeUInt32LE(header.dmaster >>> 0, 8)
  out.writeUInt32LE(reserved >>> 0, 12)
  out.writeUInt32LE(header.flags >>> 0, 16)
  out.writeUInt32LE(0, 20)
  data.copy(out, HEADER_SIZE)
  return out
}

/** undefined when the value is shorter than a header (treated as missing, as CTDB). */
export function decodeValue(value: Buffer | undefined): StoredRecord | undefined {
  if (!value || value.length < HEADER_SIZE) return undefined
  return {header: {rsn: rsnOf(value), dmaster: value.readUInt32LE(8), flags: value.readUInt32LE(16)}, reserved: value.readUInt32LE(12), data: value.subarray(HEADER_SIZE)}
}

export function rsnOf(value: Buffer): number {
  return value.readUInt32LE(0) + value.readUInt32LE(4) * 0x100000000
}

export function dmasterOf(value: Buffer): number {
  return value.readUInt32LE(8)
}

/** A persistent database's sequence number: the u64 stored in __db_sequence_number__ (0 when missing or malformed). */
export function seqnumOf(value: Buffer | undefined): number {
  const rec = decodeValue(value)
  if (!rec || rec.data.length !== 8) return 0
  return rec.data.readUInt32LE(0) + rec.data.readUInt32LE(4) * 0x100000000
}

export function seqnumData(seqnum: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeUInt32LE(seqnum % 0x100000000, 0)
  b.writeUInt32LE(Math.floor(seqnum / 0x100000000), 4)
  return b
}

// ---- pages: [u32 key length][key][u32 value length][value] repeated --------------------------

export interface PageEntry {
  key: Buffer
  value: Buffer
}

export class PageWriter {
  private buf = Buffer.allocUnsafe(64 * 1024)
  bytes = 0
  count = 0

  /** Appends a record; `dmaster` overrides the value's data master in the copy. */
  add(key: Uint8Array, value: Uint8Array, dmaster?: number): void {
    const need = 8 + key.length + value.length
    if (this.bytes + need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.bytes + need))
      this.buf.copy(bigger, 0, 0, this.bytes)
      this.buf = bigger
    }
    let i = this.bytes
    this.buf.writeUInt32LE(key.length, i)
    this.buf.set(key, i + 4)
    i += 4 + key.length
    this.buf.writeUInt32LE(value.length, i)
    this.buf.set(value, i + 4)
    if (dmaster !== undefined) this.buf.writeUInt32LE(dmaster >>> 0, i + 4 + 8)
    this.bytes += need
    this.count++
  }

  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.bytes))
    this.bytes = 0
    this.count = 0
    return out
  }
}

/** undefined when the page is malformed (truncated lengths). */
export function decodePage(page: Uint8Array): PageEntry[] | undefined {
  const buf = Buffer.from(page.buffer, page.byteOffset, page.byteLength)
  const out: PageEntry[] = []
  let i = 0
  while (i < buf.length) {
    if (i + 4 > buf.length) return undefined
    const klen = buf.readUInt32LE(i)
    i += 4
    if (i + klen + 4 > buf.length) return undefined
    const key = buf.subarray(i, i + klen)
    i += klen
    const vlen = buf.readUInt32LE(i)
    i += 4
    if (i + vlen > buf.length) return undefined
    out.push({key, value: buf.subarray(i, i + vlen)})
    i += vlen
  }
  return out
}
