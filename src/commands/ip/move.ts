import {Args, Command} from '@oclif/core'
import {liveFlags, withCluster} from '../../cli/live.js'

export default class IpMove extends Command {
  static override description = 'Move a public address to a node now, as `ctdb moveip` (the next takeover run may move it back, as in CTDB).'

  static override examples = ['<%= config.bin %> ip move 192.168.1.10 fs2', '<%= config.bin %> ip move 192.168.1.10 1']

  static override args = {
    address: Args.string({description: 'public address', required: true}),
    node: Args.string({description: 'node name or pnn', required: true}),
  }

  static override flags = liveFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(IpMove)
    await withCluster(this, flags, async (client) => {
      const state = await client.status()
      const target = state.nodes.find((n) => n.name === args.node || String(n.pnn) === args.node)
      if (!target) return this.error(`no node "${args.node}" in cluster ${state.cluster}`, {exit: 1})
      if (state.leader === undefined || state.leader < 0) return this.error('the cluster has no leader to run the move', {exit: 1})
      await client.moveIp(state.leader, args.address, target.pnn)
    })
  }
}
