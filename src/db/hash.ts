// Bob Jenkins' lookup3 hashlittle (public domain), byte-wise: CTDB's database ids and lmaster
// choice use it (core-spec §4.1, §4.3).

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

export function hashlittle(key: Uint8Array, initval = 0): number {
  let length = key.length
  let a = (0xdeadbeef + length + initval) | 0
  let b = a
  let c = a
  let i = 0
  while (length > 12) {
    a = (a + (key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24))) | 0
    b = (b + (key[i + 4]! | (key[i + 5]! << 8) | (key[i + 6]! << 16) | (key[i + 7]! << 24))) | 0
    c = (c + (key[i + 8]! | (key[i + 9]! << 8) | (key[i + 10]! << 16) | (key[i + 11]! << 24))) | 0
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0
    length -= 12
    i += 12
  }
  if (length === 0) return c >>> 0
  // The tail: CTDB's switch falls through from `length` down to 1.
  const k = (j: number) => (j < length ? key[i + j]! : 0)
  c = (c + ((k(11) << 24) | (k(10) << 16) | (k(9) << 8) | k(8))) | 0
  b = (b + ((k(7) << 24) | (k(6) << 16) | (k(5) << 8) | k(4))) | 0
  a = (a + ((k(3) << 24) | (k(2) << 16) | (k(1) << 8) | k(0))) | 0
  c ^= b; c = (c - rot(b, 14)) | 0
  a ^= c; a = (a - rot(c, 11)) | 0
  b ^= a; b = (b - rot(a, 25)) | 0
  c ^= b; c = (c - rot(b, 16)) | 0
  a ^= c; a = (a - rot(c, 4)) | 0
  b ^= a; b = (b - rot(a, 14)) | 0
  c ^= b; c = (c - rot(b, 24)) | 0
  return c >>> 0
}

/** CTDB's database id: hashlittle of the name including its trailing NUL. */
export function dbId(name: string): number {
  return hashlittle(Buffer.from(`${name}\0`, 'utf8'))
}
