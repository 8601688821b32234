import {Command, Flags} from '@oclif/core'
import {liveFlags, withCluster} from '../cli/live.js'
import {renderNodes} from '../cluster/status-render.js'

export default class Nodes extends Command {
  static override description = 'List the nodes of the cluster with their names, addresses and flags.'

  static override flags = {...liveFlags, json: Flags.boolean({summary: 'Print the nodes as JSON.'})}

  async run(): Promise<void> {
    const {flags} = await this.parse(Nodes)
    const state = await withCluster(this, flags, (c) => c.status())
    process.stdout.write(flags.json ? JSON.stringify(state.nodes, null, 2) + '\n' : renderNodes(state))
  }
}
