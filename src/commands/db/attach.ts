import {Args, Command} from '@oclif/core'
import {jsonFlag} from '../../cli/flags.js'
import {localFlags, withLocal} from '../../cli/local.js'

export default class DbAttach extends Command {
  static override description = 'Attach (create cluster-wide when new) a database, as `ctdb attach NAME [persistent|replicated]`.'
  static override args = {
    db: Args.string({description: 'Database name.', required: true}),
    kind: Args.string({description: 'Kind of a new database.', options: ['volatile', 'persistent', 'replicated'], default: 'volatile'}),
  }
  static override flags = {...localFlags, json: jsonFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbAttach)
    const info = await withLocal(this, flags, (c) => c.attach(args.db, args.kind as 'volatile' | 'persistent' | 'replicated'))
    process.stdout.write(flags.json ? JSON.stringify(info, null, 2) + '\n' : `Attached ${info.name} (${info.kind}, dbid 0x${(info.id >>> 0).toString(16).padStart(8, '0')})\n`)
  }
}
