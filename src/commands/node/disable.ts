import {Command} from '@oclif/core'
import {controlFlags, pnnArg, runNodeControl} from '../../cli/node-control.js'

export default class NodeDisable extends Command {
  static override description = 'Administratively disable a node: it keeps its place in the cluster but hosts no public addresses (survives a daemon restart).'

  static override args = pnnArg

  static override flags = controlFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NodeDisable)
    await runNodeControl(this, flags, args.pnn, 'disable')
  }
}
