import {Args, Command} from '@oclif/core'
import {applyFlags, runApply} from '../cli/apply-command.js'
import {openStore} from '../cli/config-store-access.js'
import {liveFlags, withCluster} from '../cli/live.js'

export default class Rollback extends Command {
  static override description = 'Apply an earlier revision again, as a new revision, through the same plan, confirm and wait steps as apply.'

  static override examples = ['<%= config.bin %> rollback 4 --yes -m "back out fs5"']

  static override args = {revision: Args.integer({description: 'revision to restore (see `ctdbctl history`)', required: true, min: 1})}

  static override flags = {
    ...liveFlags,
    ...applyFlags,
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
