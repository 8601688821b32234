// The portable backup file of `db backup` / `db restore`: JSON lines.
//   line 1      {"format":"ctdbctl-db-backup","version":1,"db":NAME,"kind":KIND,"created":ISO,"records":N}
//   N lines     {"k":BASE64,"d":BASE64,"rsn":…,"dmaster":…,"flags":…}
//   last line   {"sha256":HEX}  — of every byte before this line
// A file whose checksum, record count or structure does not match is refused as a whole.
import {createHash} from 'node:crypto'
import type {DbKind, TraverseRecord} from '../db/api.js'

export const BACKUP_FORMAT = 'ctdbctl-db-backup'

export interface Backup {
  db: string
  kind: DbKind
  created: string
  records: TraverseRecord[]
}

export function serializeBackup(b: Backup): string {
  const lines = [JSON.stringify({format: BACKUP_FORMAT, version: 1, db: b.db, kind: b.kind, created: b.created, records: b.records.length})]
  for (const r of b.records) lines.push(JSON.stringify({k: r.key.toString('base64'), d: r.data.toString('base64'), rsn: r.header.rsn, dmaster: r.header.dmaster, flags: r.header.flags}))
  const body = lines.join('\n') + '\n'
  return body + JSON.stringify({sha256: createHash('sha256').update(body).digest('hex')}) + '\n'
}

export class BackupError extends Error {}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/

export function parseBackup(text: string): Backup {
  const trimmed = text.endsWith('\n') ? text.slice(0, -1) : text
  const cut = trimmed.lastIndexOf('\n')
  if (cut < 0) throw new BackupError('not a ctdbctl backup (too short)')
  const body = trimmed.slice(0, cut + 1)
  let trailer: unknown
  try {
    trailer = JSON.parse(trimmed.slice(cut + 1))
  } catch {
    throw new BackupError('the checksum line is missing: the file is truncated or not a ctdbctl backup')
  }
  const sum = (trailer as {sha256?: unknown})?.sha256
  if (typeof sum !== 'string') throw new BackupError('the checksum line is missing: the file is truncated or not a ctdbctl backup')
  if (createHash('sha256').update(body).digest('hex') !== sum) throw new BackupError('checksum mismatch: the file is corrupt')
  const lines = body.slice(0, -1).split('\n')
  const head = JSON.parse(lines[0]) as Record<string, unknown>
  if (head.format !== BACKUP_FORMAT) throw new BackupError(`not a ctdbctl backup (format ${JSON.stringify(head.format)})`)
  if (head.version !== 1) throw new BackupError(`backup version ${String(head.version)} is not supported (this ctdbctl reads version 1)`)
  if (typeof head.db !== 'string' || !['volatile', 'persistent', 'replicated'].includes(head.kind as string)) throw new BackupError('the header lacks the database name or kind')
  const records = lines.slice(1).map((line, i) => {
    const r = JSON.parse(line) as Record<string, unknown>
    if (typeof r.k !== 'string' || typeof r.d !== 'string' || !B64.test(r.k) || !B64.test(r.d) || ![r.rsn, r.dmaster, r.flags].every(Number.isSafeInteger)) {
      throw new BackupError(`record ${i + 1} is malformed`)
    }
    return {key: Buffer.from(r.k, 'base64'), data: Buffer.from(r.d, 'base64'), header: {rsn: r.rsn as number, dmaster: r.dmaster as number, flags: r.flags as number}}
  })
  if (records.length !== head.records) throw new BackupError(`the header announces ${String(head.records)} records, the file holds ${records.length}`)
  return {db: head.db, kind: head.kind as DbKind, created: String(head.created), records}
}
