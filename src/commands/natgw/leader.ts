import {Command} from '@oclif/core'
import {groupCommandFlags, runGroupCommand} from '../../cli/flags.js'
import {natgwCommand} from '../../cluster/natgw.js'

export default class NatgwLeader extends Command {
  static override summary = "Print the NAT gateway leader's pnn and private address, as `ctdb natgw leader`."
  static override description = 'Prints `<PNN> <IP>`. The leader is the first node in pnn order that is not follower-only and is usable: first a fully healthy node, then an unhealthy or banned one, then a stopped one; a disconnected or disabled node never leads. Exits 2 with no output when no node qualifies.'
  static override examples = [
    '<%= config.bin %> natgw leader --config cluster.yaml --state state.json',
    '<%= config.bin %> natgw leader --config cluster.yaml --state state.json --group ng1 --json',
  ]
  static override flags = groupCommandFlags

  async run(): Promise<void> {
    const {flags} = await this.parse(NatgwLeader)
    await runGroupCommand(this, flags, 'natgw', (config) => config.natgw, (config, state, group) =>
      natgwCommand('leader', group, config.nodes, state))
  }
}
