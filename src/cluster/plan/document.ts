// The plan document (schemas/plan.schema.json): everything `ctdbctl plan` found, in a stable
// JSON shape that `ctdbctl apply --plan PLAN.json` can check and apply later. Pure.

import {createHash} from 'node:crypto'
import type {ClusterConfig} from '../../config/model.js'
import type {ClusterState} from '../state.js'
import {countChanges, diffConfigs, type Change, type UnsafeChange} from './changes.js'
import {computeConsequences, type Allocator, type Consequences} from './consequences.js'

export const PLAN_VERSION = 1

/** One side of the plan: a config file's text and where it came from. */
export interface ConfigSource {
  /** How the user named it: a path, or `git:REV:PATH`. */
  source: string
  text: string
  config: ClusterConfig
}

export interface PlanDocument {
  planVersion: typeof PLAN_VERSION
  cluster: string
  /** The config the cluster runs now; null = an empty cluster. */
  base: {source: string; sha256: string} | null
  /** The config to apply, in full, so the plan can be applied without the file. */
  config: {source: string; sha256: string; yaml: string}
  /** The state snapshot the consequences were computed from; null = assumed (see consequences.notes). */
  state: {source: string} | null
  summary: {add: number; change: number; remove: number; unsafe: number}
  /** Some change to apply (unsafe ones excluded). */
  hasChanges: boolean
  changes: Change[]
  unsafe: UnsafeChange[]
  consequences: Consequences
  /** Unified diff of the two YAML texts, with --diff only. */
  diff?: string
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

export interface PlanInput {
  base: ConfigSource | null
  next: ConfigSource
  state?: {source: string; state: ClusterState}
  /** The unified diff of the two texts (diff.ts), to include in the document. */
  diff?: string
  allocate?: Allocator
}

export function buildPlan(input: PlanInput): PlanDocument {
  const {base, next} = input
  const set = diffConfigs(base?.config ?? null, next.config)
  const consequences = computeConsequences(base?.config ?? null, next.config, {state: input.state?.state, allocate: input.allocate})
  const counts = countChanges(set.changes)
  const doc: PlanDocument = {
    planVersion: PLAN_VERSION,
    cluster: next.config.name,
    base: base ? {source: base.source, sha256: sha256(base.text)} : null,
    config: {source: next.source, sha256: sha256(next.text), yaml: next.text},
    state: input.state ? {source: input.state.source} : null,
    summary: {...counts, unsafe: set.unsafe.length},
    hasChanges: set.changes.length > 0,
    changes: set.changes,
    unsafe: set.unsafe,
    consequences,
  }
  if (input.diff !== undefined) doc.diff = input.diff
  return doc
}

/** The JSON plan (schemas/plan.schema.json); ends with a newline. */
export function renderPlanJson(doc: PlanDocument): string {
  return JSON.stringify(doc, null, 2) + '\n'
}
