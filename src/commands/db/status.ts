import {Args, Command} from '@oclif/core'
import {jsonFlag} from '../../cli/flags.js'
import {dbInfo} from '../../cli/db-ops.js'
import {renderDbStatus} from '../../cli/db-render.js'
import {localFlags, withLocal} from '../../cli/local.js'

export default class DbStatus extends Command {
  static override description = 'One database: id, kind, path, health, sequence number (as `ctdb getdbstatus`).'
  static override args = {db: Args.string({description: 'Database name.', required: true})}
  static override flags = {...localFlags, json: jsonFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbStatus)
    const info = await withLocal(this, flags, (c) => dbInfo(c, args.db))
    process.stdout.write(flags.json ? JSON.stringify(info, null, 2) + '\n' : renderDbStatus(info))
  }
}
