import {Args, Command} from '@oclif/core'
import {dbInfo} from '../../cli/db-ops.js'
import {decodeArg, encodingFlags, encodingOf, localFlags, withLocal} from '../../cli/local.js'

export default class DbDelete extends Command {
  static override description = 'Delete one record (as `ctdb deletekey`/`pdelete`).'
  static override args = {db: Args.string({description: 'Database name.', required: true}), key: Args.string({description: 'Key.', required: true})}
  static override flags = {...localFlags, ...encodingFlags}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbDelete)
    await withLocal(this, flags, async (c) => {
      await dbInfo(c, args.db)
      await c.delete(args.db, decodeArg(args.key, encodingOf(flags), 'key'))
    })
  }
}
