import {Command} from '@oclif/core'
import {groupCommandFlags, runGroupCommand} from '../../cli/flags.js'
import {lvsCommand} from '../../cluster/lvs.js'

export default class LvsStatus extends Command {
  static override summary = "Show the status of the LVS group's nodes, as `ctdb lvs status`."
  static override description = "The `ctdb nodestatus` lines (`pnn:N IP FLAGS`) of the group's nodes, in pnn order; deleted nodes are never shown."
  static override examples = [
    '<%= config.bin %> lvs status --config cluster.yaml --state state.json',
    '<%= config.bin %> lvs status --config cluster.yaml --state state.json --group lvs1 --json',
  ]
  static override flags = groupCommandFlags

  async run(): Promise<void> {
    const {flags} = await this.parse(LvsStatus)
    await runGroupCommand(this, flags, 'lvs', (config) => config.lvs, (config, state, group) =>
      lvsCommand('status', group, config.nodes, state))
  }
}
