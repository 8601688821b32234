// `ctdb gettickles` output (helpers-spec §3.5) for `ctdbctl tickles list`.
import {parseSockAddr} from '../net/addr.js'
import type {TrackedConnection} from './connections.js'
import type {TickleRecord} from './record.js'

export interface TickleListing {
  address: string
  /** The node that stored the list; absent when no list is stored. */
  pnn?: number
  time?: string
  connections: TrackedConnection[]
}

/** The stored list of an address, only the connections to `port` when it is not 0 (as gettickles). */
export function tickleListing(address: string, record: TickleRecord | undefined, port = 0): TickleListing {
  const connections = (record?.connections ?? []).filter((c) => port === 0 || parseSockAddr(c.public).port === port)
  return {address, ...(record ? {pnn: record.pnn, time: record.time} : {}), connections}
}

export function renderTickles(l: TickleListing): string {
  const lines = [`Connections for IP: ${l.address}`, `Num connections: ${l.connections.length}`]
  for (const c of l.connections) lines.push(`SRC: ${c.client}   DST: ${c.public}`)
  return lines.join('\n') + '\n'
}
