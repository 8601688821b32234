import {Command} from '@oclif/core'
import {controlFlags, pnnArg, runNodeControl} from '../../cli/node-control.js'

export default class NodeStop extends Command {
  static override description = 'Stop a node: it becomes inactive (no addresses, no leadership) until continued.'

  static override args = pnnArg

  static override flags = controlFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NodeStop)
    await runNodeControl(this, flags, args.pnn, 'stop')
  }
}
