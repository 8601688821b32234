import {Args, Command, Flags} from '@oclif/core'
import {liveFlags, withCluster} from '../../cli/live.js'
import {renderIpInfo} from '../../cluster/ip-render.js'
import {readConfig} from '../../config/index.js'

export default class IpInfo extends Command {
  static override description = 'One public address: its holder and its interfaces, as `ctdb ipinfo`.'

  static override args = {address: Args.string({description: 'public address', required: true})}

  static override flags = {...liveFlags, node: Flags.integer({char: 'n', summary: 'The node whose view to show.'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(IpInfo)
    if (!flags.config) this.error('ip info needs the cluster file (--config or CTDBCTL_CONFIG) for the interfaces of the address', {exit: 2})
    const config = await readConfig(flags.config)
    const state = await withCluster(this, flags, (client) => client.status(flags.node))
    const out = renderIpInfo(config, state, args.address)
    process.stdout.write(out.stdout)
    process.exitCode = out.exitCode
  }
}
