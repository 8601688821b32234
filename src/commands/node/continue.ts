import {Command} from '@oclif/core'
import {controlFlags, pnnArg, runNodeControl} from '../../cli/node-control.js'

export default class NodeContinue extends Command {
  static override description = 'Continue a stopped node.'

  static override args = pnnArg

  static override flags = controlFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NodeContinue)
    await runNodeControl(this, flags, args.pnn, 'continue')
  }
}
