import {writeFile} from 'node:fs/promises'
import {Args, Command, Flags} from '@oclif/core'
import {renderPlanJson, type PlanDocument} from '../cluster/plan/index.js'
import {preparePlan} from '../cli/plan-inputs.js'

/** Errors about the inputs, reported as one message (anything else is a bug: oclif shows it whole). */
const INPUT_ERRORS = new Set(['ConfigError', 'PlanInputError', 'StateFileError'])

export default class Plan extends Command {
  static override summary = 'Show what applying a cluster file would change, and what it would do to clients.'
  static override description = [
    'Compares FILE with the config the cluster runs (--against a file or a Git revision; without it, an empty cluster) and lists every change: `+` add, `~` change, `-` remove, `!` unsafe (an error).',
    'Then computes the IP allocation and the NAT gateway / LVS leaders for both configs from a cluster state (--state, or every node assumed healthy) and lists the addresses that move, the leader changes and the nodes left without addresses.',
    'Exit status: 0 success, 1 error (invalid config, unsafe change, …); with --detailed-exitcode 0 no changes, 2 changes, 1 error.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> plan cluster.yaml --against git:HEAD',
    '<%= config.bin %> plan cluster.yaml --against git:origin/main:clusters/prod.yaml --state state.json --detailed-exitcode',
    '<%= config.bin %> plan examples/change/after.yaml --against examples/change/before.yaml --diff',
    '<%= config.bin %> plan cluster.yaml --against old.yaml --json --out plan.json',
  ]

  static override args = {
    file: Args.string({description: 'the cluster file to plan; - reads standard input', required: true}),
  }

  static override flags = {
    against: Flags.string({
      summary: 'The config the cluster runs now: a file, or git:REV[:PATH] (PATH defaults to FILE\'s path in its repository). Default: an empty cluster.',
      helpValue: 'OLD.yaml|git:REV[:PATH]',
    }),
    state: Flags.string({summary: 'Cluster state snapshot (JSON, as printed by `ctdbctl status --json`) to compute the consequences from.', helpValue: 'FILE'}),
    diff: Flags.boolean({summary: 'Also print a unified diff of the two YAML files.', default: false}),
    json: Flags.boolean({summary: 'Print the plan as JSON (schemas/plan.schema.json).', default: false}),
    out: Flags.string({summary: 'Save the plan as JSON for `ctdbctl apply --plan` (not written when the plan has unsafe changes).', helpValue: 'PLAN.json'}),
    'detailed-exitcode': Flags.boolean({summary: 'Exit 0 when there are no changes, 2 when there are, 1 on error.', default: false}),
    color: Flags.boolean({summary: 'Color the output (default: only on a terminal, never with NO_COLOR set).', allowNo: true}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Plan)
    let doc: PlanDocument
    try {
      doc = await preparePlan({file: args.file, against: flags.against, stateFile: flags.state, diff: flags.diff})
    } catch (error) {
      if (error instanceof Error && INPUT_ERRORS.has(error.name)) return this.fail(error.message)
      throw error
    }
    process.stdout.write(flags.json ? renderPlanJson(doc) : await this.human(doc, flags.color))
    if (doc.unsafe.length > 0) {
      const n = doc.unsafe.length
      return this.fail(`the plan has ${n} unsafe change${n === 1 ? '' : 's'} (marked !) and cannot be applied${flags.out ? `; ${flags.out} was not written` : ''}`)
    }
    if (flags.out !== undefined) {
      try {
        await writeFile(flags.out, renderPlanJson(doc))
      } catch (error) {
        return this.fail(`cannot write ${flags.out}: ${(error as Error).message}`)
      }
    }
    process.exitCode = flags['detailed-exitcode'] && doc.hasChanges ? 2 : 0
  }

  /** Usage errors exit 1 too: oclif's 2 would read as "changes" under --detailed-exitcode. */
  protected override async catch(error: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    if (error.oclif?.exit === 2) error.oclif.exit = 1
    return super.catch(error)
  }

  /** The human rendering (loaded on demand: --json needs neither it nor chalk). */
  private async human(doc: PlanDocument, color: boolean | undefined): Promise<string> {
    const [{supportsColor}, {chalkFor, renderPlan}] = await Promise.all([import('chalk'), import('../cluster/plan/render.js')])
    const chalk = chalkFor({flag: color, env: process.env, isTTY: process.stdout.isTTY === true, detected: supportsColor ? supportsColor.level : 0})
    return renderPlan(doc, chalk)
  }

  private fail(message: string): void {
    process.stderr.write(`Error: ${message}\n`)
    process.exitCode = 1
  }
}
