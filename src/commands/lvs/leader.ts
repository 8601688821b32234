import {Command} from '@oclif/core'
import {groupCommandFlags, runGroupCommand} from '../../cli/flags.js'
import {lvsCommand} from '../../cluster/lvs.js'

export default class LvsLeader extends Command {
  static override summary = "Print the LVS leader's pnn, as `ctdb lvs leader`."
  static override description = 'Prints `<PNN>`: the first node in pnn order, not follower-only, that is healthy, or if none is, that is neither disabled nor inactive (unhealthy tolerated). Exits 255 with no output when no node qualifies.'
  static override examples = [
    '<%= config.bin %> lvs leader --config cluster.yaml --state state.json',
    '<%= config.bin %> lvs leader --config cluster.yaml --state state.json --group lvs1 --json',
  ]
  static override flags = groupCommandFlags

  async run(): Promise<void> {
    const {flags} = await this.parse(LvsLeader)
    await runGroupCommand(this, flags, 'lvs', (config) => config.lvs, (config, state, group) =>
      lvsCommand('leader', group, config.nodes, state))
  }
}
