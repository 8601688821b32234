// Reads what `ctdbctl plan` (and `apply`) needs — configs from files or Git, a state snapshot —
// and builds the plan with the pure plan module.
import {buildPlan, type ConfigSource, type PlanDocument} from '../cluster/plan/document.js'
import {parseAgainst, PlanInputError, readConfigSource, readGitSource} from './plan-sources.js'

export {PlanInputError, parseAgainst} from './plan-sources.js'

export interface PlanRequest {
  file: string
  /** A file, or `git:REV[:PATH]`; absent: an empty cluster. */
  against?: string
  stateFile?: string
  diff?: boolean
}

/**
 * Reads everything a plan needs and builds it. Throws ConfigError for an invalid config (either
 * side), StateFileError for a bad snapshot and PlanInputError for anything else.
 */
export async function preparePlan(req: PlanRequest): Promise<PlanDocument> {
  const next = await readConfigSource(req.file)
  let base: ConfigSource | null = null
  if (req.against !== undefined) {
    const spec = parseAgainst(req.against)
    if (spec.type === 'file') base = await readConfigSource(spec.file)
    else {
      if (req.file === '-' && spec.path === undefined) {
        throw new PlanInputError(`--against ${req.against}: the config comes from standard input, so give the path at the revision too (git:${spec.rev}:PATH)`)
      }
      base = await readGitSource(req.file, spec)
    }
  }
  let state
  if (req.stateFile !== undefined) {
    // Loaded on demand: the snapshot validator pulls in ajv, which costs start-up time.
    const {readStateFile} = await import('./state-file.js')
    const snapshot = await readStateFile(req.stateFile)
    const expected = (base ?? next).config.name
    if (snapshot.cluster !== expected) {
      throw new PlanInputError(`${req.stateFile} is a snapshot of cluster "${snapshot.cluster}", not of "${expected}"`)
    }
    state = {source: req.stateFile, state: snapshot}
  }
  const diff = req.diff ? (await import('../cluster/plan/diff.js')).unifiedDiff(base, next) : undefined
  return buildPlan({base, next, state, diff})
}
