import {Command} from '@oclif/core'
import {groupCommandFlags, runGroupCommand} from '../../cli/flags.js'
import {natgwCommand} from '../../cluster/natgw.js'

export default class NatgwList extends Command {
  static override summary = "List the NAT gateway group's members, marking the leader, as `ctdb natgw list`."
  static override description = 'One line per member in the order of the config: `<IP>` or `<IP>\\t<options>` where options are `follower-only` and/or `LEADER`. Having no leader is not an error.'
  static override examples = [
    '<%= config.bin %> natgw list --config cluster.yaml --state state.json',
    '<%= config.bin %> natgw list --config cluster.yaml --state state.json --group ng1 --json',
  ]
  static override flags = groupCommandFlags

  async run(): Promise<void> {
    const {flags} = await this.parse(NatgwList)
    await runGroupCommand(this, flags, 'natgw', (config) => config.natgw, (config, state, group) =>
      natgwCommand('list', group, config.nodes, state))
  }
}
