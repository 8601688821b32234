import {readFileSync} from 'node:fs'
import {Args, Command} from '@oclif/core'
import {BackupError, parseBackup} from '../../cli/db-backup.js'
import {collect, writeRecords} from '../../cli/db-ops.js'
import {localFlags, withLocal} from '../../cli/local.js'
import {SEQNUM_KEY} from '../../db/record.js'

export default class DbRestore extends Command {
  static override description = 'Restore a database from a `db backup` file (as `ctdb restoredb FILE [DB]`): the checksum is verified first and a corrupt or truncated file changes nothing. Persistent/replicated databases are replaced in one transaction.'
  static override args = {file: Args.string({description: 'Backup file.', required: true}), db: Args.string({description: 'Database to restore into (default: the one in the file).'})}
  static override flags = localFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbRestore)
    let backup
    try {
      backup = parseBackup(readFileSync(args.file, 'utf8'))
    } catch (e) {
      const why = e instanceof BackupError ? e.message : `unreadable: ${(e as Error).message}`
      process.stderr.write(`Error: ${args.file}: ${why}; nothing was restored\n`)
      return this.exit(1)
    }
    const name = args.db ?? backup.db
    const count = await withLocal(this, flags, async (c) => {
      const info = await c.attach(name, backup.kind)
      // The sequence number record is the database's own: the restoring commit advances it.
      const records = backup.records.filter((r) => !r.key.equals(SEQNUM_KEY))
      const keep = new Set(records.map((r) => r.key.toString('hex')))
      const stale = info.kind === 'volatile' ? [] : (await collect(c, name)).filter((r) => !keep.has(r.key.toString('hex')) && !r.key.equals(SEQNUM_KEY)).map((r) => ({key: r.key}))
      if (info.kind === 'volatile') await c.wipe(name)
      await writeRecords(c, info, [...stale, ...records.map((r) => ({key: r.key, value: r.data}))])
      return records.length
    })
    process.stdout.write(`Restored ${count} records into ${name}\n`)
  }
}
