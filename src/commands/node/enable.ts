import {Command} from '@oclif/core'
import {controlFlags, pnnArg, runNodeControl} from '../../cli/node-control.js'

export default class NodeEnable extends Command {
  static override description = 'Enable a disabled node.'

  static override args = pnnArg

  static override flags = controlFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NodeEnable)
    await runNodeControl(this, flags, args.pnn, 'enable')
  }
}
