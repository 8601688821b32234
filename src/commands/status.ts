import {Command, Flags} from '@oclif/core'
import {liveFlags, withCluster} from '../cli/live.js'
import {statusView} from '../cli/status-view.js'
import {renderStatus} from '../cluster/status-render.js'

export default class Status extends Command {
  static override description = 'Show the cluster: nodes and their flags, generation, leader (as `ctdb status`).'

  static override examples = ['<%= config.bin %> status --config cluster.yaml', '<%= config.bin %> status --json > state.json']

  static override flags = {
    ...liveFlags,
    node: Flags.integer({char: 'n', summary: 'Ask this node (pnn) instead of any node.'}),
    json: Flags.boolean({summary: 'Print the state snapshot (schemas/state.schema.json).'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Status)
    const state = await withCluster(this, flags, (c) => statusView(c, flags.node))
    process.stdout.write(flags.json ? JSON.stringify(state, null, 2) + '\n' : renderStatus(state))
  }
}
