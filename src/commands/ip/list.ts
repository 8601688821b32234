import {Command, Flags} from '@oclif/core'
import {liveFlags, withCluster} from '../../cli/live.js'
import {renderIpList} from '../../cluster/ip-render.js'

export default class IpList extends Command {
  static override description = 'Public addresses and the node holding each (-1 = nobody), as `ctdb ip` / `ctdb ip all`.'

  static override flags = {
    ...liveFlags,
    all: Flags.boolean({summary: 'Ask every node what it really holds (as `ctdb ip all`) instead of one node\'s view.'}),
    node: Flags.integer({char: 'n', summary: 'The node whose view to show.'}),
    json: Flags.boolean({summary: 'Print [{address, pnn}] as JSON.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(IpList)
    const result = await withCluster(this, flags, async (client) => {
      const state = await client.status(flags.node)
      if (!flags.all) return {entries: state.publicAddresses, header: `Public IPs on node ${state.thisNode}`}
      const connected = state.nodes.filter((n) => !n.flags.includes('DISCONNECTED') && !n.flags.includes('DELETED'))
      const views = await Promise.all(connected.map((n) => client.status(n.pnn)))
      const entries = state.publicAddresses.map(({address}) => ({address, pnn: views.find((v) => v.publicAddresses.some((a) => a.address === address && a.pnn === v.thisNode))?.thisNode ?? -1}))
      return {entries, header: 'Public IPs on ALL nodes'}
    })
    process.stdout.write(flags.json ? JSON.stringify(result.entries, null, 2) + '\n' : renderIpList(result.entries, result.header))
  }
}
