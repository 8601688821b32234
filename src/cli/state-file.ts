// Reading a cluster state snapshot (DESIGN.md §4) given with --state FILE, validated against
// schemas/state.schema.json. Every error names the file and the JSON pointer of the bad value.

import {readFile} from 'node:fs/promises'
import {readFileSync} from 'node:fs'
import {Ajv2020, type ErrorObject, type ValidateFunction} from 'ajv/dist/2020.js'
import type {ClusterState} from '../cluster/state.js'

export const STATE_SCHEMA_URL = new URL('../../schemas/state.schema.json', import.meta.url)

let validator: ValidateFunction | undefined

function compile(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(STATE_SCHEMA_URL, 'utf8')) as Record<string, unknown>
    validator = new Ajv2020({allErrors: true, strict: true}).compile(schema)
  }
  return validator
}

/** Thrown for an unreadable or invalid snapshot; the message is one line per problem. */
export class StateFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.map((p) => `${file}: ${p}`).join('\n'))
    this.name = 'StateFileError'
  }
}

function describe(e: ErrorObject): string {
  const at = e.instancePath === '' ? '/' : e.instancePath
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown property "${(e.params as {additionalProperty: string}).additionalProperty}" (at ${at})`
    case 'required':
      return `missing required property "${(e.params as {missingProperty: string}).missingProperty}" (at ${at})`
    case 'enum':
      return `must be one of ${(e.params as {allowedValues: unknown[]}).allowedValues.map((v) => JSON.stringify(v)).join(', ')} (at ${at})`
    default:
      return `${e.message ?? 'is invalid'} (at ${at})`
  }
}

/** Validate parsed JSON as a state snapshot; returns problems as `<message> (at <pointer>)`. */
export function validateState(data: unknown): string[] {
  const validate = compile()
  if (!validate(data)) {
    const seen = new Set<string>()
    return (validate.errors ?? []).map(describe).filter((m) => !seen.has(m) && seen.add(m) !== undefined)
  }
  const state = data as ClusterState
  const problems: string[] = []
  const pnns = new Map<number, number>()
  state.nodes.forEach((node, i) => {
    const first = pnns.get(node.pnn)
    if (first !== undefined) problems.push(`pnn ${node.pnn} is listed twice, first at /nodes/${first} (at /nodes/${i}/pnn)`)
    else pnns.set(node.pnn, i)
  })
  return problems
}

/** JSON.parse quotes the input in its messages, newlines included. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ')
}

/** Parse and validate snapshot text; `file` only names the source in errors. */
export function parseStateText(text: string, file: string): ClusterState {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw new StateFileError(file, [`not valid JSON: ${oneLine((error as Error).message)}`])
  }
  const problems = validateState(data)
  if (problems.length > 0) throw new StateFileError(file, problems)
  const state = data as ClusterState & {$schema?: string}
  delete state.$schema
  return {...state, publicAddresses: state.publicAddresses ?? []}
}

/** Read a cluster state snapshot from a JSON file. */
export async function readStateFile(file: string): Promise<ClusterState> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const err = error as NodeJS.ErrnoException
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message
    throw new StateFileError(file, [`cannot read state snapshot: ${why}`])
  }
  return parseStateText(text, file)
}
