import {Command} from '@oclif/core'
import {groupCommandFlags, runGroupCommand} from '../../cli/flags.js'
import {lvsCommand} from '../../cluster/lvs.js'

export default class LvsList extends Command {
  static override summary = "List the LVS group's usable nodes, as `ctdb lvs list`."
  static override description = 'One `<PNN> <IP>` line per node that receives connections (follower-only included), pnn order: all healthy members, or if there are none, all members that are neither disabled nor inactive. No usable node: no output, exit 0.'
  static override examples = [
    '<%= config.bin %> lvs list --config cluster.yaml --state state.json',
    '<%= config.bin %> lvs list --config cluster.yaml --state state.json --group lvs1 --json',
  ]
  static override flags = groupCommandFlags

  async run(): Promise<void> {
    const {flags} = await this.parse(LvsList)
    await runGroupCommand(this, flags, 'lvs', (config) => config.lvs, (config, state, group) =>
      lvsCommand('list', group, config.nodes, state))
  }
}
