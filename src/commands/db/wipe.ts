import {Args, Command} from '@oclif/core'
import {dbInfo} from '../../cli/db-ops.js'
import {localFlags, withLocal} from '../../cli/local.js'

export default class DbWipe extends Command {
  static override description = 'Empty a database on every node (as `ctdb wipedb`).'
  static override args = {db: Args.string({description: 'Database name.', required: true})}
  static override flags = localFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbWipe)
    await withLocal(this, flags, async (c) => {
      await dbInfo(c, args.db)
      await c.wipe(args.db)
    })
    process.stdout.write(`Database ${args.db} wiped\n`)
  }
}
