// Bare TCP segments as CTDB crafts them (helpers-spec §3.2) and the parsing of captured ones.
//
// A crafted segment is an IPv4 or IPv6 header followed by a 20-byte TCP header, no options, no
// payload: flags ACK (plus RST when asked), window 1234 (the marker by which CTDB recognises its
// own packets), urgent 0, checksum over the pseudo-header (a computed 0 is sent as 0xFFFF).
// IPv4: version 4, IHL 5, TOS 0, ID 0, no fragmentation, TTL 255, protocol 6, header checksum 0
// (the kernel fills it for IP_HDRINCL sockets). Deliberate difference: the total-length field is
// 40, not CTDB's 8 (an upstream bug that Linux hides by rewriting the field).
// IPv6: version 6, traffic class and flow label 0, payload length 20, next header 6, hop limit 64.
//
// Sequence numbers: `seq` and `ack` here are the 32-bit values AS THEY APPEAR ON THE WIRE (read
// big-endian from a captured segment) and are written back big-endian, i.e. copied verbatim, as
// CTDB does. A tickle uses 0/0.

export const TICKLE_WINDOW = 1234
export const TCP_FLAG_RST = 0x04
export const TCP_FLAG_ACK = 0x10

export interface Endpoint {
  family: 4 | 6
  /** 4 or 16 address bytes, network order. */
  bytes: Buffer
  port: number
}

export interface SegmentSpec {
  src: Endpoint
  dst: Endpoint
  seq: number
  ack: number
  rst: boolean
}

/** Ones' complement sum of 16-bit big-endian words (not folded to 16 bits, not inverted). */
function sum16(buf: Buffer, start: number, end: number, acc = 0): number {
  let s = acc
  let i = start
  for (; i + 1 < end; i += 2) s += (buf[i] << 8) | buf[i + 1]
  if (i < end) s += buf[i] << 8
  return s
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000)
  return s
}

/** The Internet checksum (RFC 1071) of buf[start, end), seeded with `acc` (an unfolded sum). */
export function internetChecksum(buf: Buffer, start = 0, end = buf.length, acc = 0): number {
  return ~fold(sum16(buf, start, end, acc)) & 0xffff
}

/** The pseudo-header sum for TCP over IPv4 or IPv6 (RFC 793 / RFC 8200 §8.1). */
export function pseudoHeaderSum(src: Buffer, dst: Buffer, tcpLength: number): number {
  let s = sum16(src, 0, src.length) + sum16(dst, 0, dst.length)
  s += 6 // next header / protocol
  s += src.length === 4 ? tcpLength : (tcpLength >>> 16) + (tcpLength & 0xffff)
  return s
}

/** TCP checksum of the segment at buf[offset, offset+length) between the given addresses. */
export function tcpChecksum(src: Buffer, dst: Buffer, buf: Buffer, offset: number, length: number): number {
  return internetChecksum(buf, offset, offset + length, pseudoHeaderSum(src, dst, length))
}

export function segmentLength(family: 4 | 6): number {
  return family === 4 ? 40 : 60
}

/** Builds the IP packet (header + 20-byte TCP header). Writes into `out` when given. */
export function buildSegment(spec: SegmentSpec, out?: Buffer): Buffer {
  const {src, dst} = spec
  if (src.family !== dst.family) throw new Error('source and destination address families differ')
  const ipLen = src.family === 4 ? 20 : 40
  const buf = out ?? Buffer.allocUnsafe(ipLen + 20)
  buf.fill(0, 0, ipLen + 20)
  if (src.family === 4) {
    buf[0] = 0x45
    buf.writeUInt16BE(40, 2)
    buf[8] = 255
    buf[9] = 6
    src.bytes.copy(buf, 12, 0, 4)
    dst.bytes.copy(buf, 16, 0, 4)
  } else {
    buf[0] = 0x60
    buf.writeUInt16BE(20, 4)
    buf[6] = 6
    buf[7] = 64
    src.bytes.copy(buf, 8, 0, 16)
    dst.bytes.copy(buf, 24, 0, 16)
  }
  const t = ipLen
  buf.writeUInt16BE(src.port, t)
  buf.writeUInt16BE(dst.port, t + 2)
  buf.writeUInt32BE(spec.seq >>> 0, t + 4)
  buf.writeUInt32BE(spec.ack >>> 0, t + 8)
  buf[t + 12] = 0x50
  buf[t + 13] = TCP_FLAG_ACK | (spec.rst ? TCP_FLAG_RST : 0)
  buf.writeUInt16BE(TICKLE_WINDOW, t + 14)
  const sum = tcpChecksum(src.bytes, dst.bytes, buf, t, 20)
  buf.writeUInt16BE(sum === 0 ? 0xffff : sum, t + 16)
  return buf
}

/** The fields of a captured TCP segment that killtcp looks at. */
export interface CapturedSegment {
  family: 4 | 6
  /** Views into the captured buffer: valid only until the next packet is read. */
  src: Buffer
  dst: Buffer
  sport: number
  dport: number
  /** Wire values (big-endian reads). */
  seq: number
  ack: number
  rst: boolean
  window: number
}

/**
 * Parses an IP packet at buf[offset, end): IPv4 (version 4, no fragment offset, protocol TCP,
 * any IHL) or IPv6 whose next header is TCP directly (extension headers are not walked, as in
 * CTDB). Returns undefined for anything else or a truncated header.
 */
export function parseIpPacket(buf: Buffer, offset = 0, end = buf.length): CapturedSegment | undefined {
  if (end - offset < 1) return undefined
  const version = buf[offset] >> 4
  let family: 4 | 6
  let src: Buffer
  let dst: Buffer
  let t: number
  if (version === 4) {
    if (end - offset < 20) return undefined
    const ihl = (buf[offset] & 0x0f) * 4
    if (ihl < 20) return undefined
    if ((buf.readUInt16BE(offset + 6) & 0x1fff) !== 0) return undefined
    if (buf[offset + 9] !== 6) return undefined
    family = 4
    src = buf.subarray(offset + 12, offset + 16)
    dst = buf.subarray(offset + 16, offset + 20)
    t = offset + ihl
  } else if (version === 6) {
    if (end - offset < 40) return undefined
    if (buf[offset + 6] !== 6) return undefined
    family = 6
    src = buf.subarray(offset + 8, offset + 24)
    dst = buf.subarray(offset + 24, offset + 40)
    t = offset + 40
  } else {
    return undefined
  }
  return parseTcpHeader(family, src, dst, buf, t, end)
}

/** Parses a TCP header at buf[t, end) whose addresses are already known. */
export function parseTcpHeader(family: 4 | 6, src: Buffer, dst: Buffer, buf: Buffer, t: number, end: number): CapturedSegment | undefined {
  if (end - t < 20) return undefined
  return {
    family,
    src,
    dst,
    sport: buf.readUInt16BE(t),
    dport: buf.readUInt16BE(t + 2),
    seq: buf.readUInt32BE(t + 4),
    ack: buf.readUInt32BE(t + 8),
    rst: (buf[t + 13] & TCP_FLAG_RST) !== 0,
    window: buf.readUInt16BE(t + 14),
  }
}

/** Link-layer types of pcap streams that can be parsed (LINKTYPE_* numbers). */
export const LINKTYPE = {ETHERNET: 1, RAW: 101, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276} as const

/**
 * Parses a captured link-layer frame: Ethernet (no VLAN tags, as CTDB), Linux cooked v1/v2 (the
 * "any" device) or raw IP. The protocol field must say IPv4 (0x0800) or IPv6 (0x86DD).
 */
export function parseLinkFrame(linktype: number, buf: Buffer, offset: number, end: number): CapturedSegment | undefined {
  let proto: number
  let ip: number
  switch (linktype) {
    case LINKTYPE.ETHERNET:
      if (end - offset < 14) return undefined
      proto = buf.readUInt16BE(offset + 12)
      ip = offset + 14
      break
    case LINKTYPE.LINUX_SLL:
      if (end - offset < 16) return undefined
      proto = buf.readUInt16BE(offset + 14)
      ip = offset + 16
      break
    case LINKTYPE.LINUX_SLL2:
      if (end - offset < 20) return undefined
      proto = buf.readUInt16BE(offset)
      ip = offset + 20
      break
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return parseIpPacket(buf, offset, end)
    default:
      return undefined
  }
  if (proto === 0x0800) return buf[ip] >> 4 === 4 ? parseIpPacket(buf, ip, end) : undefined
  if (proto === 0x86dd) return buf[ip] >> 4 === 6 ? parseIpPacket(buf, ip, end) : undefined
  return undefined
}

/** CTDB's test for its own crafted packets: window 1234 and (RST or seq 0). */
export function isOwnSegment(s: Pick<CapturedSegment, 'window' | 'rst' | 'seq'>): boolean {
  return s.window === TICKLE_WINDOW && (s.rst || s.seq === 0)
}
