import {writeFileSync, renameSync} from 'node:fs'
import {Args, Command} from '@oclif/core'
import {serializeBackup} from '../../cli/db-backup.js'
import {collect, dbInfo} from '../../cli/db-ops.js'
import {localFlags, withLocal} from '../../cli/local.js'

export default class DbBackup extends Command {
  static override description = 'Write every record of a database to a portable file with a SHA-256 checksum (as `ctdb backupdb`).'
  static override args = {db: Args.string({description: 'Database name.', required: true}), file: Args.string({description: 'Backup file to write.', required: true})}
  static override flags = localFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbBackup)
    const count = await withLocal(this, flags, async (c) => {
      const info = await dbInfo(c, args.db)
      const records = await collect(c, args.db)
      // Written beside the target and renamed, so an interrupted backup never leaves a partial file.
      const tmp = `${args.file}.tmp-${process.pid}`
      writeFileSync(tmp, serializeBackup({db: info.name, kind: info.kind, created: new Date().toISOString(), records}), {mode: 0o600})
      renameSync(tmp, args.file)
      return records.length
    })
    process.stdout.write(`Database backed up to ${args.file} (${count} records)\n`)
  }
}
