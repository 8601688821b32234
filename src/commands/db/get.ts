import {Args, Command} from '@oclif/core'
import {jsonFlag} from '../../cli/flags.js'
import {dbInfo} from '../../cli/db-ops.js'
import {decodeArg, encodingFlags, encodingOf, localFlags, withLocal} from '../../cli/local.js'

export default class DbGet extends Command {
  static override description = 'Print the value of one record (as `ctdb readkey`/`pfetch`); exit 1 when there is none.'
  static override args = {db: Args.string({description: 'Database name.', required: true}), key: Args.string({description: 'Key.', required: true})}
  static override flags = {...localFlags, ...encodingFlags, json: jsonFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbGet)
    const encoding = encodingOf(flags)
    const r = await withLocal(this, flags, async (c) => {
      await dbInfo(c, args.db)
      return c.fetch(args.db, decodeArg(args.key, encoding, 'key'))
    })
    // An empty record is a deleted one (CTDB's tombstone).
    const found = r.data !== undefined && r.data.length > 0
    if (flags.json) process.stdout.write(JSON.stringify({found, header: r.header, ...(found ? {data: r.data!.toString(encoding)} : {})}, null, 2) + '\n')
    else if (found) process.stdout.write(r.data!.toString(encoding) + (encoding === 'utf8' ? '' : '\n'))
    else process.stderr.write(`no record for key "${args.key}" in ${args.db}\n`)
    if (!found) this.exit(1)
  }
}
