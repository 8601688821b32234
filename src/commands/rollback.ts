import {Args, Command, Flags} from '@oclif/core'
import {runApply} from '../cli/apply-command.js'
import {openStore} from '../cli/config-store-access.js'
import {liveFlags, withCluster} from '../cli/live.js'

export default class Rollback extends Command {
  static override description = 'Apply an earlier revision again, as a new revision, through the same plan, confirm and wait steps as apply.'

  static override examples = ['<%= config.bin %> rollback 4 --yes -m "back out fs5"']

  static override args = {revision: Args.integer({description: 'revision to restore (see `ctdbctl history`)', required: true, min: 1})}

  static override flags = {
    ...liveFlags,
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
    force: Flags.boolean({summary: 'Apply even when the plan has unsafe changes.'}),
    message: Flags.string({char: 'm', summary: 'Why: recorded with the revision.'}),
    author: Flags.string({summary: 'Who: recorded with the revision.'}),
    wait: Flags.integer({summary: 'Seconds to wait for the nodes to converge.', default: 60, min: 1}),
    'allow-missing': Flags.boolean({summary: 'Succeed when the only laggards are DISCONNECTED nodes.'}),
    color: Flags.boolean({summary: 'Color the plan.', allowNo: true}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Rollback)
    await withCluster(this, flags, async (client) => {
      const rev = await (await openStore(client)).get(args.revision)
      if (!rev) return this.error(`the cluster has no revision ${args.revision} (see ctdbctl history)`, {exit: 1})
      await runApply(this, client, {yaml: rev.yaml, source: `revision ${args.revision}`}, {...flags, message: flags.message ?? `rollback to revision ${args.revision}`})
    })
  }
}
