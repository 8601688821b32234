import {readFile} from 'node:fs/promises'
import {Args, Command, Flags} from '@oclif/core'
import {applyFlags, loadApplyInput, runApply} from '../cli/apply-command.js'
import {liveFlags, withCluster} from '../cli/live.js'

export default class Apply extends Command {
  static override summary = 'Apply a cluster file (or a saved plan) to the live cluster and wait until every node runs it.'
  static override description = [
    'Plans FILE against the revision the cluster runs and its live state, prints the plan, asks for confirmation on a terminal (--yes to skip; required when not a terminal), writes the new revision with compare-and-set, then follows every node until it runs and matches the revision.',
    'Exit status: 0 applied and converged (or nothing to do); 1 refused or failed (nothing written); 2 written but some node did not converge within --wait.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> apply cluster.yaml',
    '<%= config.bin %> apply cluster.yaml --yes --message "add fs4"',
    '<%= config.bin %> apply --plan plan.json --yes',
  ]

  static override args = {file: Args.string({description: 'cluster file to apply; - reads standard input'})}

  static override flags = {
    ...liveFlags,
    plan: Flags.string({summary: 'Apply a plan saved with `ctdbctl plan --out` (refused when the cluster changed since).', helpValue: 'PLAN.json', exclusive: ['file']}),
    ...applyFlags,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Apply)
    if (!args.file && !flags.plan) this.error('give the cluster file to apply, or --plan PLAN.json', {exit: 2})
    const input = await loadApplyInput(this, args.file, flags.plan, readFile)
    await withCluster(this, flags, (client) => runApply(this, client, input, flags))
  }
}
