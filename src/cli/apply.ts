// `ctdbctl apply` and `rollback`: plan against the live cluster, confirm, write the revision
// with compare-and-set, then follow every node until it runs and matches the new revision.
import {createInterface} from 'node:readline/promises'
import type {ClusterClient} from '../client/cluster-client.js'
import {expectedNodes, nodeProgress, type NodeProgress} from '../client/convergence.js'
import {buildPlan, sha256, type PlanDocument} from '../cluster/plan/document.js'
import type {ClusterState} from '../cluster/state.js'
import {StaleRevisionError} from '../protocol/config-store.js'
import {openStore} from './config-store-access.js'
import {configFromText} from './plan-sources.js'

export interface ApplyRequest {
  /** The YAML to apply, exactly as it will be stored. */
  yaml: string
  source: string
  /** With --plan: the sha256 of the config the plan was made against (null = an empty cluster). */
  planBase?: string | null
  yes: boolean
  force: boolean
  author: string
  message?: string
  timeoutMs: number
  allowMissing: boolean
  render: (doc: PlanDocument) => Promise<string>
}

export interface ApplyOutcome {
  exitCode: number
  revision?: number
}

const out = (text: string) => process.stdout.write(text)
const err = (text: string) => process.stderr.write(text)

export async function applyConfig(client: ClusterClient, req: ApplyRequest): Promise<ApplyOutcome> {
  const next = configFromText(req.yaml, req.source) // throws ConfigError: an invalid config is never written
  const store = await openStore(client)
  const current = await store.current()
  const baseRevision = current?.revision ?? 0
  if (req.planBase !== undefined && req.planBase !== (current ? sha256(current.yaml) : null)) {
    err(`Error: the cluster changed since this plan was made (it was made against ${req.planBase ? `config ${req.planBase.slice(0, 12)}` : 'an empty cluster'}, the cluster now runs revision ${baseRevision}); make a new plan\n`)
    return {exitCode: 1}
  }
  if (next.config.name !== client.target.cluster) {
    err(`Error: ${req.source} describes cluster "${next.config.name}" but this is cluster "${client.target.cluster}"\n`)
    return {exitCode: 1}
  }
  const state = await client.status()
  const base = current ? readableBase(current) : null
  const doc = buildPlan({base, next, state: {source: 'the live cluster', state}})
  out(await req.render(doc))
  if (doc.unsafe.length > 0) {
    if (!req.force) {
      err(`Error: the plan has ${doc.unsafe.length} unsafe change${doc.unsafe.length === 1 ? '' : 's'} (marked !); nothing was applied. Use --force to apply anyway.\n`)
      return {exitCode: 1}
    }
    err(`Warning: applying ${doc.unsafe.length} unsafe change${doc.unsafe.length === 1 ? '' : 's'} because of --force:\n${doc.unsafe.map((u) => `  ! ${u.reason}\n`).join('')}`)
  }
  if (!doc.hasChanges && current) {
    out('Nothing to apply.\n')
    return {exitCode: 0, revision: baseRevision}
  }
  if (!req.yes) {
    if (!process.stdin.isTTY) {
      err('Error: refusing to apply without confirmation: standard input is not a terminal; pass --yes to apply non-interactively\n')
      return {exitCode: 1}
    }
    if (!(await confirm(`Apply this plan to cluster ${client.target.cluster} (now at revision ${baseRevision})? Only 'yes' will be accepted: `))) {
      out('Apply cancelled; nothing was changed.\n')
      return {exitCode: 1}
    }
  }
  const started = Date.now()
  let revision: number
  try {
    revision = await store.write(
      {yaml: req.yaml, sha256: sha256(req.yaml), author: req.author, time: new Date().toISOString(), summary: `${doc.summary.add} to add, ${doc.summary.change} to change, ${doc.summary.remove} to remove`, ...(req.message ? {message: req.message} : {})},
      baseRevision,
    )
  } catch (e) {
    if (e instanceof StaleRevisionError) {
      err(`Error: ${e.message}; nothing was applied\n`)
      return {exitCode: 1}
    }
    throw e
  }
  client.announceRevision(revision)
  out(`Revision ${revision} written. Waiting for the nodes to converge…\n`)
  const result = await followConvergence(client, revision, req.timeoutMs, started)
  return {exitCode: summarise(result, revision, req.allowMissing, started), revision}
}

interface ConvergenceResult {
  final: Map<number, NodeProgress>
}

/** Polls the cluster until every expected node converged, or rejected the revision, or time runs out. */
async function followConvergence(client: ClusterClient, revision: number, timeoutMs: number, started: number): Promise<ConvergenceResult> {
  const deadline = started + timeoutMs
  const reported = new Map<number, string>()
  let final = new Map<number, NodeProgress>()
  for (;;) {
    let state: ClusterState | undefined
    try {
      state = await client.status()
    } catch {
      state = undefined // a daemon may be busy; try again until the deadline
    }
    if (state) {
      final = new Map(expectedNodes(state).map((n) => [n.pnn, nodeProgress(n, revision)]))
      for (const p of final.values()) {
        const line = progressLine(p, revision, started)
        if (p.status !== 'pending' && reported.get(p.pnn) !== p.status) {
          out(line)
          reported.set(p.pnn, p.status)
        }
      }
      const done = [...final.values()].every((p) => p.status === 'converged' || p.status === 'rejected')
      if (done) return {final}
    }
    if (Date.now() > deadline) return {final}
    await new Promise((r) => setTimeout(r, 100))
  }
}

function progressLine(p: NodeProgress, revision: number, started: number): string {
  const t = `${((Date.now() - started) / 1000).toFixed(1)} s`
  switch (p.status) {
    case 'converged':
      return `  ✓ ${p.name} (pnn ${p.pnn}) runs revision ${revision} (${t})\n`
    case 'rejected':
      return `  ✗ ${p.name} (pnn ${p.pnn}) refused the revision: ${p.error}\n`
    case 'missing':
      return `  - ${p.name} (pnn ${p.pnn}) is DISCONNECTED\n`
    case 'pending':
      return `  … ${p.name} (pnn ${p.pnn}) at revision ${p.revision}\n`
  }
}

function summarise(result: ConvergenceResult, revision: number, allowMissing: boolean, started: number): number {
  const all = [...result.final.values()]
  const converged = all.filter((p) => p.status === 'converged')
  const missing = all.filter((p) => p.status === 'missing')
  const failed = all.filter((p) => p.status === 'pending' || p.status === 'rejected' || (p.status === 'missing' && !allowMissing))
  const secs = ((Date.now() - started) / 1000).toFixed(1)
  if (failed.length === 0) {
    out(`Apply complete: revision ${revision}, ${converged.length}/${all.length} nodes converged in ${secs} s${missing.length > 0 ? ` (${missing.map((p) => p.name).join(', ')} missing, allowed by --allow-missing; they converge when they return)` : ''}.\n`)
    return 0
  }
  err(`Error: revision ${revision} is applied but not every node converged within the timeout: ${failed.map((p) => `${p.name} (${p.status === 'pending' ? `still at revision ${p.revision}` : p.status === 'missing' ? 'DISCONNECTED' : 'refused it'})`).join(', ')}\n`)
  return 2
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({input: process.stdin, output: process.stdout})
  try {
    return (await rl.question(question)).trim() === 'yes'
  } finally {
    rl.close()
  }
}

/** The config of the current revision; an invalid one (written around the CLI) plans as an empty cluster. */
function readableBase(current: {yaml: unknown; revision: number}) {
  try {
    if (typeof current.yaml !== 'string') throw new Error('it holds no YAML')
    return configFromText(current.yaml, `revision ${current.revision}`)
  } catch (e) {
    err(`Warning: the cluster's current revision ${current.revision} is not a valid config (${(e as Error).message.split('\n')[0]}); planning against an empty cluster\n`)
    return null
  }
}
