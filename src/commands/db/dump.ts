import {Args, Command, Flags} from '@oclif/core'
import {dbInfo} from '../../cli/db-ops.js'
import {renderRecord} from '../../cli/db-render.js'
import {encodingFlags, encodingOf, localFlags, withLocal} from '../../cli/local.js'

export default class DbDump extends Command {
  static override description = 'Every record of a database across the cluster, as `ctdb catdb` (streamed).'
  static override args = {db: Args.string({description: 'Database name.', required: true})}
  static override flags = {...localFlags, ...encodingFlags, json: Flags.boolean({summary: 'One JSON object per line: key, data (utf8, or --hex/--base64), rsn, dmaster, flags.'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbDump)
    const encoding = flags.json ? encodingOf(flags) : 'utf8'
    const count = await withLocal(this, flags, async (c) => {
      await dbInfo(c, args.db)
      let n = 0
      for await (const r of c.traverse(args.db)) {
        if (r.data.length === 0) continue // a deleted record, as ctdb catdb
        const out = flags.json ? JSON.stringify({key: r.key.toString(encoding), data: r.data.toString(encoding), ...r.header}) + '\n' : renderRecord(r)
        if (!process.stdout.write(out)) await new Promise((resolve) => process.stdout.once('drain', resolve))
        n++
      }
      return n
    })
    if (!flags.json) process.stdout.write(`Dumped ${count} records\n`)
  }
}
