// Frames of the local client socket (docs/protocol.md, "Client socket"):
//   u32be bodyLength | u32be headerLength | header (JSON, UTF-8) | binary parts, back to back
// The header's "p" lists the byte length of each binary part (keys and values travel raw, not
// base64). Shared by the daemon's socket server and the client library.

/** Default largest body accepted (header + parts); bigger frames close the connection. */
export const DEFAULT_MAX_FRAME = 64 * 1024 * 1024

export type Header = Record<string, unknown>

export interface Frame {
  header: Header
  parts: Buffer[]
}

export class FrameError extends Error {}

export function encodeFrame(header: Header, parts: Buffer[] = []): Buffer {
  let json = JSON.stringify(header)
  if (parts.length > 0) {
    // "p" appended to the JSON text: cheaper than copying the header object (hot path).
    let lengths = ''
    for (const b of parts) lengths += lengths === '' ? `${b.length}` : `,${b.length}`
    json = `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"p":[${lengths}]}`
  }
  const jsonLength = Buffer.byteLength(json)
  let body = 4 + jsonLength
  for (const b of parts) body += b.length
  // One buffer (from Node's pool when small), written in place: no intermediate copies.
  const out = Buffer.allocUnsafe(4 + body)
  out.writeUInt32BE(body, 0)
  out.writeUInt32BE(jsonLength, 4)
  let offset = 8 + out.write(json, 8, 'utf8')
  for (const b of parts) {
    out.set(b, offset)
    offset += b.length
  }
  return out
}

/** Parses one frame body (after the length prefix); throws FrameError when malformed. */
export function decodeBody(body: Buffer): Frame {
  if (body.length < 4) throw new FrameError(`frame of ${body.length} bytes is shorter than its header length`)
  const headerLength = body.readUInt32BE(0)
  if (headerLength > body.length - 4) throw new FrameError(`header length ${headerLength} exceeds the frame (${body.length - 4} bytes left)`)
  let header: unknown
  try {
    header = JSON.parse(body.toString('utf8', 4, 4 + headerLength))
  } catch (e) {
    throw new FrameError(`header is not JSON: ${(e as Error).message}`)
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new FrameError('header is not a JSON object')
  const h = header as Header
  const lengths = h.p ?? []
  if (!Array.isArray(lengths) || !lengths.every((n) => Number.isSafeInteger(n) && n >= 0)) throw new FrameError('"p" must be a list of part lengths')
  let offset = 4 + headerLength
  const parts: Buffer[] = []
  for (const n of lengths as number[]) {
    if (n > body.length - offset) throw new FrameError('binary parts are longer than the frame')
    parts.push(body.subarray(offset, offset + n))
    offset += n
  }
  if (offset !== body.length) throw new FrameError(`${body.length - offset} bytes after the last binary part`)
  delete h.p
  return {header: h, parts}
}

/**
 * Splits a byte stream into frames. push() returns the complete frames so far and throws
 * FrameError on a malformed or oversized frame (the stream is then unusable: close it).
 */
export class FrameReader {
  private chunks: Buffer[] = []
  private buffered = 0
  /** Body length of the incomplete frame at the start of the chunks, once its prefix arrived. */
  private need = -1

  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const out: Frame[] = []
    // A frame still incomplete: wait without joining the chunks (large frames come in many).
    if (this.need >= 0 && this.buffered < 4 + this.need) return out
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered)
    let offset = 0
    this.need = -1
    while (all.length - offset >= 4) {
      const need = all.readUInt32BE(offset)
      if (need > this.maxFrame) throw new FrameError(`frame of ${need} bytes exceeds the limit of ${this.maxFrame}`)
      if (all.length - offset - 4 < need) {
        this.need = need
        break
      }
      out.push(decodeBody(all.subarray(offset + 4, offset + 4 + need)))
      offset += 4 + need
    }
    const rest = offset === 0 ? all : all.subarray(offset)
    this.chunks = rest.length > 0 ? [rest] : []
    this.buffered = rest.length
    return out
  }
}
