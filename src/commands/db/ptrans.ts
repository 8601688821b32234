import {Args, Command} from '@oclif/core'
import {dbInfo, writeRecords} from '../../cli/db-ops.js'
import {localFlags, withLocal} from '../../cli/local.js'
import {parsePtrans, PtransError} from '../../cli/ptrans.js'

export default class DbPtrans extends Command {
  static override description = 'Apply `"KEY" "VALUE"` lines from standard input in one transaction (as `ctdb ptrans`): \\XX is a hex byte inside the quotes, an empty value deletes the key; one bad line and nothing is applied.'
  static override args = {db: Args.string({description: 'Persistent or replicated database.', required: true})}
  static override flags = localFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DbPtrans)
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    let records
    try {
      records = parsePtrans(Buffer.concat(chunks).toString('utf8'))
    } catch (e) {
      if (!(e instanceof PtransError)) throw e
      process.stderr.write(`Error: ${e.message}; nothing was applied\n`)
      return this.exit(1)
    }
    await withLocal(this, flags, async (c) => {
      const info = await dbInfo(c, args.db)
      if (info.kind === 'volatile') throw new Error(`${args.db} is volatile: ptrans needs a persistent or replicated database`)
      await writeRecords(c, info, records)
    })
    process.stdout.write(`${records.length} records applied to ${args.db} in one transaction\n`)
  }
}
