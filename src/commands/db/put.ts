import {Args, Command} from '@oclif/core'
import {dbInfo, writeRecords} from '../../cli/db-ops.js'
import {decodeArg, encodingFlags, encodingOf, localFlags, withLocal} from '../../cli/local.js'

export default class DbPut extends Command {
  static override description = 'Store one record (as `ctdb writekey`/`pstore`): volatile under the record lock, persistent/replicated in a transaction.'
  static override args = {
    db: Args.string({description: 'Database name.', required: true}),
    key: Args.string({description: 'Key.', required: true}),
    value: Args.string({description: 'Value.', required: true}),
  }
  static override flags = {...localFlags, ...encodingFlags}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbPut)
    const encoding = encodingOf(flags)
    await withLocal(this, flags, async (c) => {
      const record = {key: decodeArg(args.key, encoding, 'key'), value: decodeArg(args.value, encoding, 'value')}
      await writeRecords(c, await dbInfo(c, args.db), [record])
    })
  }
}
