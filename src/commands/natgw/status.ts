import {Command} from '@oclif/core'
import {groupCommandFlags, runGroupCommand} from '../../cli/flags.js'
import {natgwCommand} from '../../cluster/natgw.js'

export default class NatgwStatus extends Command {
  static override summary = "Show the status of the NAT gateway group's nodes, as `ctdb natgw status`."
  static override description = "The `ctdb nodestatus` lines (`pnn:N IP FLAGS`) of the group's nodes, in pnn order; deleted nodes are never shown. Exits 0 whatever the nodes' health."
  static override examples = [
    '<%= config.bin %> natgw status --config cluster.yaml --state state.json',
    '<%= config.bin %> natgw status --config cluster.yaml --state state.json --group ng1 --json',
  ]
  static override flags = groupCommandFlags

  async run(): Promise<void> {
    const {flags} = await this.parse(NatgwStatus)
    await runGroupCommand(this, flags, 'natgw', (config) => config.natgw, (config, state, group) =>
      natgwCommand('status', group, config.nodes, state))
  }
}
