// Database steps shared by the `db` commands, on top of the typed client.
import type {CtdbClient, DbInfo} from '../client/ctdb-client.js'
import type {TraverseRecord} from '../db/api.js'

export async function dbInfo(client: CtdbClient, name: string): Promise<DbInfo> {
  const info = (await client.list()).find((d) => d.name === name)
  if (!info) throw new Error(`no database named "${name}" on node ${client.pnn}; attach it first (ctdbctl db attach ${name} [persistent|replicated])`)
  return info
}

/** Writes records (undefined value = delete): one transaction for persistent/replicated, record by record for volatile. */
export async function writeRecords(client: CtdbClient, info: DbInfo, records: {key: Buffer; value?: Buffer}[]): Promise<void> {
  if (info.kind === 'volatile') {
    for (const r of records) {
      if (r.value === undefined) await client.delete(info.name, r.key)
      else await (await client.fetchLock(info.name, r.key)).store(r.value)
    }
    return
  }
  const tx = await client.transaction(info.name)
  try {
    for (const r of records) await (r.value === undefined ? tx.delete(r.key) : tx.put(r.key, r.value))
    await tx.commit()
  } catch (e) {
    await tx.cancel().catch(() => undefined)
    throw e
  }
}

export async function collect(client: CtdbClient, db: string): Promise<TraverseRecord[]> {
  const out: TraverseRecord[] = []
  for await (const r of client.traverse(db)) out.push(r)
  return out
}
