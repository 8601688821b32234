// Address keys and prefix distances, as CTDB's ip_key() / ip_distance() (ipalloc_common.c,
// ipalloc_lcp2.c). Pure, no I/O.
//
// An address is a 128-bit key made of four big-endian 32-bit words: IPv4 a.b.c.d is
// [0, 0, 0, a<<24|b<<16|c<<8|d], IPv6 is its four words. Keys of many addresses are packed in one
// Uint32Array, four words per address, so the hot loops of LCP2 never touch strings or objects.

import ipaddr from 'ipaddr.js'

/** Number of 32-bit words per key. */
export const KEY_WORDS = 4

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/

/**
 * Writes the key of `text` into `out` at word offset `at` and returns true, or returns false
 * (leaving `out` untouched) when `text` is not an IPv4 (strict dotted decimal) or IPv6 (no zone)
 * address.
 */
export function writeKey(text: string, out: Uint32Array, at: number): boolean {
  const m = IPV4.exec(text)
  if (m) {
    const a = Number(m[1])
    const b = Number(m[2])
    const c = Number(m[3])
    const d = Number(m[4])
    if (a > 255 || b > 255 || c > 255 || d > 255) return false
    out[at] = 0
    out[at + 1] = 0
    out[at + 2] = 0
    out[at + 3] = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0
    return true
  }
  if (!text.includes(':') || text.includes('%')) return false
  let v6 = text
  const dot = text.indexOf('.')
  if (dot >= 0) {
    // Embedded IPv4 tail (::ffff:1.2.3.4, ::1.2.3.4): convert it ourselves, ipaddr.js reads
    // every such tail as IPv4-mapped.
    const colon = text.lastIndexOf(':')
    const tail = new Uint32Array(KEY_WORDS)
    if (colon > dot || !writeKey(text.slice(colon + 1), tail, 0)) return false
    v6 = `${text.slice(0, colon + 1)}${(tail[3] >>> 16).toString(16)}:${(tail[3] & 0xffff).toString(16)}`
  }
  if (!ipaddr.IPv6.isValid(v6)) return false
  const parts = ipaddr.IPv6.parse(v6).parts
  for (let w = 0; w < KEY_WORDS; w++) out[at + w] = ((parts[2 * w] << 16) | parts[2 * w + 1]) >>> 0
  return true
}

/** The key of one address, or undefined when it is not an IPv4 or IPv6 address. */
export function addressKey(text: string): Uint32Array | undefined {
  const k = new Uint32Array(KEY_WORDS)
  return writeKey(text, k, 0) ? k : undefined
}

/** A string usable as a Map key that identifies the address (same for every spelling). */
export function keyId(keys: Uint32Array, i: number): string {
  const at = i * KEY_WORDS
  return `${keys[at]}.${keys[at + 1]}.${keys[at + 2]}.${keys[at + 3]}`
}

/** Unsigned comparison of keys i and j of `keys`: negative when i < j. */
export function compareKeys(keys: Uint32Array, i: number, j: number): number {
  const a = i * KEY_WORDS
  const b = j * KEY_WORDS
  for (let w = 0; w < KEY_WORDS; w++) {
    const x = keys[a + w]
    const y = keys[b + w]
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

/**
 * CTDB's ip_distance(): per word, 32 when equal, else the number of leading bits in common;
 * the words count independently. Two IPv4 addresses are at distance >= 96.
 */
export function distance(keys: Uint32Array, i: number, j: number): number {
  const a = i * KEY_WORDS
  const b = j * KEY_WORDS
  return (
    Math.clz32(keys[a] ^ keys[b]) +
    Math.clz32(keys[a + 1] ^ keys[b + 1]) +
    Math.clz32(keys[a + 2] ^ keys[b + 2]) +
    Math.clz32(keys[a + 3] ^ keys[b + 3])
  )
}
