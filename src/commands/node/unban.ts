import {Command} from '@oclif/core'
import {controlFlags, pnnArg, runNodeControl} from '../../cli/node-control.js'

export default class NodeUnban extends Command {
  static override description = 'Lift the ban of a node.'

  static override args = pnnArg

  static override flags = controlFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NodeUnban)
    await runNodeControl(this, flags, args.pnn, 'unban')
  }
}
