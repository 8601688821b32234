import {Args, Command, Flags} from '@oclif/core'
import {decodeArg, encodingOf, localFlags, withLocal} from '../../cli/local.js'
import {parseDestination, parseSrvid} from '../../messaging/srvid.js'

export default class MessageSend extends Command {
  static override description = 'Send a message to the clients that registered SRVID on a node or on every node (no acknowledgement, as CTDB).'
  static override examples = ['<%= config.bin %> message send 1 0xAE00000000000001 hello', '<%= config.bin %> message send all 42 "cluster-wide"']
  static override args = {
    dest: Args.string({description: 'A pnn, current, all, active or connected (or ctdb\'s 0xF000000N).', required: true}),
    srvid: Args.string({description: 'Server id (u64, decimal or 0x-hex).', required: true}),
    data: Args.string({description: 'Message data (UTF-8, or --hex/--base64).', default: ''}),
  }
  static override flags = {
    ...localFlags,
    hex: Flags.boolean({summary: 'DATA is hexadecimal.', exclusive: ['base64']}),
    base64: Flags.boolean({summary: 'DATA is base64.', exclusive: ['hex']}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(MessageSend)
    const dest = parseDestination(args.dest)
    if (dest === undefined) this.error(`destination "${args.dest}" is not a pnn, current, all, active or connected`, {exit: 2})
    if (parseSrvid(args.srvid) === undefined) this.error(`srvid "${args.srvid}" is not an unsigned 64-bit number`, {exit: 2})
    const targets = await withLocal(this, flags, (c) => c.send(dest, args.srvid, decodeArg(args.data, encodingOf(flags), 'data')))
    process.stdout.write(`Sent to node${targets.length === 1 ? '' : 's'} ${targets.join(', ')}\n`)
  }
}
