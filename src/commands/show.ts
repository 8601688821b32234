import {Args, Command} from '@oclif/core'
import {openStore} from '../cli/config-store-access.js'
import {liveFlags, withCluster} from '../cli/live.js'

export default class Show extends Command {
  static override description = 'Print the YAML of an applied revision (default: the current one), byte for byte.'

  static override args = {revision: Args.integer({description: 'revision number (see `ctdbctl history`)', min: 1})}

  static override flags = liveFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Show)
    const rev = await withCluster(this, flags, async (client) => {
      const store = await openStore(client)
      return args.revision === undefined ? store.current() : store.get(args.revision)
    })
    if (!rev) this.error(args.revision === undefined ? 'the cluster has no applied config yet' : `the cluster has no revision ${args.revision} (see ctdbctl history)`, {exit: 1})
    process.stdout.write(rev.yaml)
  }
}
