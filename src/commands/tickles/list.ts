import {Args, Command, Flags} from '@oclif/core'
import {liveFlags, withCluster} from '../../cli/live.js'
import {canonicalIp} from '../../tickles/connections.js'
import {renderTickles, tickleListing} from '../../tickles/render.js'
import {TickleStore} from '../../tickles/store.js'

export default class TicklesList extends Command {
  static override summary = 'Tracked client connections of a public address, as `ctdb gettickles`.'
  static override description = 'Reads the list the holder of the address last stored in the cluster (the tickles bucket): the clients that get tickle ACKs when the address moves. With PORT, only connections to that port.'
  static override examples = ['<%= config.bin %> tickles list 192.168.1.10', '<%= config.bin %> tickles list 192.168.1.10 445 --json']

  static override args = {
    address: Args.string({description: 'public address', required: true}),
    port: Args.integer({description: 'only connections to this port (0 = all)', required: false, min: 0, max: 65535}),
  }

  static override flags = {...liveFlags, json: Flags.boolean({summary: 'Print {address, pnn, time, connections: [{client, public}]} as JSON.'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(TicklesList)
    const address = canonicalIp(args.address)
    if (!address) this.error(`invalid IP address '${args.address}'`, {exit: 2})
    const listing = await withCluster(this, flags, async (client) => {
      const store = await TickleStore.find(client.connection, client.target.cluster, (key, reason) => process.stderr.write(`Warning: ignoring malformed tickle list ${key}: ${reason}\n`))
      return tickleListing(address, await store?.get(address), args.port ?? 0)
    })
    process.stdout.write(flags.json ? JSON.stringify(listing, null, 2) + '\n' : renderTickles(listing))
  }
}
