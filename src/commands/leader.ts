import {Command, Flags} from '@oclif/core'
import {liveFlags, withCluster} from '../cli/live.js'

export default class Leader extends Command {
  static override description = 'Print the pnn of the cluster leader, or UNKNOWN (as `ctdb leader`).'

  static override flags = {...liveFlags, json: Flags.boolean({summary: 'Print {"leader": PNN} (-1 when unknown).'})}

  async run(): Promise<void> {
    const {flags} = await this.parse(Leader)
    const state = await withCluster(this, flags, (c) => c.status())
    const leader = state.leader ?? -1
    process.stdout.write(flags.json ? JSON.stringify({leader}) + '\n' : `${leader < 0 ? 'UNKNOWN' : leader}\n`)
  }
}
