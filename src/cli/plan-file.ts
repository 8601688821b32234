// Reading a plan saved with `ctdbctl plan --out` for `apply --plan`: only what apply needs
// (the config text and the base it was planned against), every problem a one-line error.
import {oneLine} from './state-file.js'

export interface SavedPlan {
  yaml: string
  source: string
  /** sha256 of the config the plan was made against; null = an empty cluster. */
  planBase: string | null
}

export class PlanFileError extends Error {
  constructor(file: string, why: string) {
    super(`${file} is not a plan written by \`ctdbctl plan --out\`: ${why}`)
    this.name = 'PlanFileError'
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

export function parsePlanText(text: string, file: string): SavedPlan {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (e) {
    throw new PlanFileError(file, `not valid JSON (${oneLine((e as Error).message)})`)
  }
  if (!isObject(data)) throw new PlanFileError(file, 'expected a JSON object')
  if (data.planVersion !== 1) throw new PlanFileError(file, `unsupported planVersion ${JSON.stringify(data.planVersion) ?? 'missing'} (expected 1)`)
  const config = data.config
  if (!isObject(config) || typeof config.yaml !== 'string') throw new PlanFileError(file, 'config.yaml is missing')
  const base = data.base
  if (base === undefined) throw new PlanFileError(file, 'base is missing')
  if (base !== null && !(isObject(base) && typeof base.sha256 === 'string' && /^[0-9a-f]{64}$/.test(base.sha256))) throw new PlanFileError(file, 'base must be null or {source, sha256} with a sha256 of 64 hex digits')
  const source = typeof config.source === 'string' ? config.source : 'unnamed'
  return {yaml: config.yaml, source: `${file} (${source})`, planBase: base === null ? null : (base.sha256 as string)}
}
