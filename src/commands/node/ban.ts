import {Command, Flags} from '@oclif/core'
import {controlFlags, pnnArg, runNodeControl} from '../../cli/node-control.js'
import {parseDuration} from '../../config/duration.js'

export default class NodeBan extends Command {
  static override description = 'Ban a node for a while: it releases its addresses and takes no part in the cluster until the ban expires.'

  static override examples = ['<%= config.bin %> node ban 1 --for 300s']

  static override args = pnnArg

  static override flags = {
    ...controlFlags,
    for: Flags.string({summary: 'Ban duration (e.g. 300s, 5m); whole seconds.', required: true, helpValue: 'DURATION'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NodeBan)
    let ms: number
    try {
      ms = parseDuration(flags.for)
    } catch (e) {
      this.error((e as Error).message, {exit: 2})
    }
    if (ms < 1000 || ms % 1000 !== 0) this.error(`ban time must be a whole number of seconds, at least 1s (got ${flags.for})`, {exit: 2})
    await runNodeControl(this, flags, args.pnn, 'ban', ms / 1000)
  }
}
