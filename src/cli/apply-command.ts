// The parts of `apply` and `rollback` around applyConfig: reading the input, rendering, exit.
import {Flags, type Command} from '@oclif/core'
import type {ClusterClient} from '../client/cluster-client.js'
import type {PlanDocument} from '../cluster/plan/document.js'
import {parsePlanText, PlanFileError} from './plan-file.js'
import {applyConfig} from './apply.js'
import {defaultAuthor} from './author.js'

/** Flags shared by `apply` and `rollback` (which is an apply of an old revision). */
export const applyFlags = {
  yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
  force: Flags.boolean({summary: 'Apply even when the plan has unsafe changes.'}),
  message: Flags.string({char: 'm', summary: 'Why: recorded with the revision.'}),
  author: Flags.string({summary: 'Who: recorded with the revision (default: your Git identity, else user@host).'}),
  wait: Flags.integer({summary: 'Seconds to wait for the nodes to converge.', default: 60, min: 1}),
  'allow-missing': Flags.boolean({summary: 'Succeed when the only laggards are DISCONNECTED nodes (they converge when they return).'}),
  color: Flags.boolean({summary: 'Color the plan (default: only on a terminal, never with NO_COLOR).', allowNo: true}),
}

export interface ApplyInput {
  yaml: string
  source: string
  planBase?: string | null
}

export async function loadApplyInput(cmd: Command, file: string | undefined, planFile: string | undefined, read: (f: string, enc: 'utf8') => Promise<string>): Promise<ApplyInput> {
  try {
    if (planFile) return parsePlanText(await read(planFile, 'utf8'), planFile)
    const {readSource} = await import('../config/index.js')
    return {yaml: await readSource(file!), source: file === '-' ? '<stdin>' : file!}
  } catch (e) {
    if ((e as {oclif?: unknown}).oclif) throw e
    if (e instanceof PlanFileError) return cmd.error(e.message, {exit: 1})
    return cmd.error(`cannot read ${planFile ?? file}: ${(e as Error).message}`, {exit: 2})
  }
}

export async function runApply(
  cmd: Command,
  client: ClusterClient,
  input: ApplyInput,
  flags: {yes: boolean; force: boolean; message?: string; author?: string; wait: number; 'allow-missing': boolean; color?: boolean},
): Promise<void> {
  const render = async (doc: PlanDocument) => {
    const [{supportsColor}, {chalkFor, renderPlan}] = await Promise.all([import('chalk'), import('../cluster/plan/render.js')])
    return renderPlan(doc, chalkFor({flag: flags.color, env: process.env, isTTY: process.stdout.isTTY === true, detected: supportsColor ? supportsColor.level : 0}))
  }
  try {
    const outcome = await applyConfig(client, {
      ...input,
      yes: flags.yes,
      force: flags.force,
      author: flags.author ?? (await defaultAuthor()),
      message: flags.message,
      timeoutMs: flags.wait * 1000,
      allowMissing: flags['allow-missing'],
      render,
    })
    process.exitCode = outcome.exitCode
  } catch (e) {
    if ((e as Error).name === 'ConfigError') {
      process.stderr.write(`Error: ${(e as Error).message}\n`)
      return cmd.exit(1)
    }
    throw e
  }
}
