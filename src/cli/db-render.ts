// Output of the `db` commands in ctdb's formats (getdbmap, getdbstatus, catdb).
import type {DbInfo, TraverseRecord} from '../db/api.js'

const hex8 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`

export function renderDbMap(dbs: DbInfo[]): string {
  const lines = [`Number of databases:${dbs.length}`]
  for (const d of dbs) {
    const extra = [d.kind === 'persistent' ? 'PERSISTENT' : '', d.kind === 'replicated' ? 'REPLICATED' : '', d.healthy ? '' : 'UNHEALTHY'].filter(Boolean)
    lines.push([`dbid:${hex8(d.id)} name:${d.name} path:${d.path}`, ...extra].join(' '))
  }
  return lines.join('\n') + '\n'
}

export function renderDbStatus(d: DbInfo): string {
  return [
    `dbid: ${hex8(d.id)}`,
    `name: ${d.name}`,
    `path: ${d.path}`,
    `PERSISTENT: ${d.kind === 'persistent' ? 'yes' : 'no'}`,
    `REPLICATED: ${d.kind === 'replicated' ? 'yes' : 'no'}`,
    `HEALTH: ${d.healthy ? 'OK' : `NO-HEALTHY-NODES - ${d.reason ?? 'unhealthy'}`}`,
    ...(d.seqnum === undefined ? [] : [`SEQNUM: ${d.seqnum}`]),
    `RECORDS: ${d.records}`,
  ].join('\n') + '\n'
}

/** Bytes as ctdb prints them: printable ASCII as is, anything else as \XX (upper-case hex). */
export function escapeBytes(b: Buffer): string {
  let out = ''
  for (const c of b) out += c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x22 ? String.fromCharCode(c) : `\\${c.toString(16).toUpperCase().padStart(2, '0')}`
  return out
}

export function renderRecord(r: TraverseRecord): string {
  return [`key(${r.key.length}) = "${escapeBytes(r.key)}"`, `dmaster: ${r.header.dmaster}`, `rsn: ${r.header.rsn}`, `flags: ${hex8(r.header.flags)}`, `data(${r.data.length}) = "${escapeBytes(r.data)}"`, ''].join('\n') + '\n'
}
