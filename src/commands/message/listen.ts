import {Args, Command, Flags} from '@oclif/core'
import {escapeBytes} from '../../cli/db-render.js'
import {localFlags, withLocal} from '../../cli/local.js'
import {formatSrvid, parseSrvid} from '../../messaging/srvid.js'

export default class MessageListen extends Command {
  static override description = 'Register SRVID on this node and print each message it receives, one per line, until interrupted (or --count/--timeout).'
  static override args = {srvid: Args.string({description: 'Server id (u64, decimal or 0x-hex); 0xFFFFFFFFFFFFFFFF receives every message.', required: true})}
  static override flags = {
    ...localFlags,
    count: Flags.integer({summary: 'Exit after this many messages.', min: 1}),
    timeout: Flags.integer({summary: 'Exit after this many seconds (status 1 when --count was not reached).', min: 1}),
    json: Flags.boolean({summary: 'One JSON object per message: srvid, from, data (base64).'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(MessageListen)
    const srvid = parseSrvid(args.srvid)
    if (srvid === undefined) this.error(`srvid "${args.srvid}" is not an unsigned 64-bit number`, {exit: 2})
    const complete = await withLocal(this, flags, async (c) => {
      let received = 0
      let finish!: (complete: boolean) => void
      const done = new Promise<boolean>((resolve) => (finish = resolve))
      await c.register(srvid, (m) => {
        const line = flags.json ? JSON.stringify({srvid: formatSrvid(m.srvid), from: m.from, data: m.data.toString('base64')}) : `from ${m.from} srvid ${formatSrvid(m.srvid)}: ${escapeBytes(m.data)}`
        process.stdout.write(line + '\n')
        if (flags.count !== undefined && ++received >= flags.count) finish(true)
      })
      process.stderr.write(`Listening on node ${c.pnn} for srvid ${formatSrvid(srvid)}\n`)
      const timer = flags.timeout ? setTimeout(() => finish(flags.count === undefined), flags.timeout * 1000) : undefined
      process.once('SIGINT', () => finish(true))
      process.once('SIGTERM', () => finish(true))
      const ok = await done
      clearTimeout(timer)
      return ok
    })
    if (!complete) this.exit(1)
  }
}
