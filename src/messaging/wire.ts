// A client message as it crosses NATS to the target node's subject `ctdbctl.<c>.msg.<pnn>`:
//   u64be srvid | u32be source pnn | data

export interface WireMessage {
  srvid: bigint
  from: number
  data: Buffer
}

export function encodeMessage(m: WireMessage): Uint8Array {
  const out = Buffer.allocUnsafe(12 + m.data.length)
  out.writeBigUInt64BE(m.srvid, 0)
  out.writeUInt32BE(m.from, 8)
  m.data.copy(out, 12)
  return out
}

/** Never throws: a payload too short to hold the header is undefined. */
export function parseMessage(payload: Uint8Array): WireMessage | undefined {
  if (payload.length < 12) return undefined
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length)
  return {srvid: b.readBigUInt64BE(0), from: b.readUInt32BE(8), data: b.subarray(12)}
}
