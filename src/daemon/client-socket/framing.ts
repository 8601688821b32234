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
  const json = Buffer.from(JSON.stringify(parts.length > 0 ? {...header, p: parts.map((b) => b.length)} : header), 'utf8')
  const prefix = Buffer.allocUnsafe(8)
  let body = 4 + json.length
  for (const b of parts) body += b.length
  prefix.writeUInt32BE(body, 0)
  prefix.writeUInt32BE(json.length, 4)
  return Buffer.concat([prefix, json, ...parts], 4 + body)
}

/** Parses one frame body (after the length prefix); throws FrameError when malformed. */
export function decodeBody(body: Buffer): Frame {
  if (body.length < 4) throw new FrameError(`frame of ${body.length} bytes is shorter than its header length`)
  const headerLength = body.readUInt32BE(0)
  if (headerLength > body.length - 4) throw new FrameError(`header length ${headerLength} exceeds the frame (${body.length - 4} bytes left)`)
  let header: unknown
  try {
    header = JSON.parse(body.subarray(4, 4 + headerLength).toString('utf8'))
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
  /** Body length of the frame being read, once its prefix arrived. */
  private need = -1

  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const out: Frame[] = []
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break
        this.need = this.take(4).readUInt32BE(0)
        if (this.need > this.maxFrame) throw new FrameError(`frame of ${this.need} bytes exceeds the limit of ${this.maxFrame}`)
      }
      if (this.buffered < this.need) break
      const body = this.take(this.need)
      this.need = -1
      out.push(decodeBody(body))
    }
    return out
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered)
    const head = all.subarray(0, n)
    const rest = all.subarray(n)
    this.chunks = rest.length > 0 ? [rest] : []
    this.buffered = rest.length
    return head
  }
}
