// Recovery's pure decisions (core-spec §3.3-3.4): the volatile merge by record sequence
// number, the nodes that keep a recovered volatile record, the source of a persistent/replicated
// database, and the VNN map.
import {dmasterOf, rsnOf} from './record.js'

/** Keeps the record with the highest RSN per key; on equal RSN a copy whose dmaster is the leader is replaced. */
export class VolatileMerge {
  private readonly records = new Map<string, Buffer>()

  constructor(private readonly leader: number) {}

  add(key: Buffer, value: Buffer): void {
    const k = key.toString('latin1')
    const old = this.records.get(k)
    if (!old) {
      this.records.set(k, value)
      return
    }
    const rsn = rsnOf(value)
    const oldRsn = rsnOf(old)
    if (rsn > oldRsn || (rsn === oldRsn && dmasterOf(old) === this.leader)) this.records.set(k, value)
  }

  get size(): number {
    return this.records.size
  }

  *entries(): Iterable<[Buffer, Buffer]> {
    for (const [k, v] of this.records) yield [Buffer.from(k, 'latin1'), v]
  }
}

/** The node to copy a persistent/replicated database from: highest seqnum, ties to the lowest pnn. */
export function persistentSource(seqnums: {pnn: number; seqnum: number}[]): number {
  let best = seqnums[0]!
  for (const s of seqnums) if (s.seqnum > best.seqnum || (s.seqnum === best.seqnum && s.pnn < best.pnn)) best = s
  return best.pnn
}

/** Active lmaster-capable nodes in pnn order; the leader alone when there are none. */
export function vnnMap(participants: number[], lmasterCapable: (pnn: number) => boolean, leader: number): number[] {
  const map = [...participants].filter(lmasterCapable).sort((a, b) => a - b)
  return map.length > 0 ? map : [leader]
}

/** The nodes that get a volatile record's copy: its location master and the next participant after it. */
export function copyHolders(lmaster: number, active: readonly number[]): number[] {
  if (active.length < 2) return [lmaster]
  return [lmaster, active.find((p) => p > lmaster) ?? active.find((p) => p !== lmaster)!]
}
