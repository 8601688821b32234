// The cluster schema (schemas/cluster.schema.json, the single source of truth of the config
// language) compiled with ajv, and ajv's errors turned into sentences a user can act on.
import {readFileSync} from 'node:fs'
import type {ErrorObject, ValidateFunction} from 'ajv/dist/2020.js'
import {closest, distance} from 'fastest-levenshtein'
import {FORMATS} from './formats.js'
import {pointer as makePointer} from './problems.js'

export const CLUSTER_SCHEMA_URL = new URL('../../schemas/cluster.schema.json', import.meta.url)
const PRECOMPILED_MODULE = './cluster-validator.js'

export interface SchemaProblem {
  rule: string
  message: string
  pointer: string
  /** Locate the key rather than the value (unknown keys). */
  atKey: boolean
}

type JsonSchema = Record<string, unknown>

type Validator = ValidateFunction

let schemaCache: JsonSchema | undefined
let validatorCache: Validator | undefined

// The build (scripts/build-validator.js) precompiles the schema into dist/config/cluster-validator.js:
// compiling it at every start would cost more than the rest of `validate` (cold start target).
const precompiled = (await import(PRECOMPILED_MODULE).catch(() => undefined)) as {validate: Validator} | undefined
const compiler = precompiled ? undefined : await import('./schema-compiler.js')

export function clusterSchema(): JsonSchema {
  schemaCache ??= JSON.parse(readFileSync(CLUSTER_SCHEMA_URL, 'utf8')) as JsonSchema
  return schemaCache
}

function validator(): Validator {
  validatorCache ??= precompiled?.validate ?? compiler!.createAjv().compile(clusterSchema())
  return validatorCache
}

export function validateAgainstSchema(data: unknown): SchemaProblem[] {
  const validate = validator()
  if (validate(data)) return []
  const problems = (validate.errors ?? []).map((e) => describe(e, data))
  // One message per place and rule: ajv may report the same failure through several paths.
  const seen = new Set<string>()
  return problems.filter((p) => {
    const k = `${p.pointer}\0${p.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

function describe(e: ErrorObject, data: unknown): SchemaProblem {
  const p = e.params as Record<string, unknown>
  const where = e.instancePath
  const value = valueAt(data, where)
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty)
      const allowed = Object.keys((schemaAt(e.schemaPath.replace(/\/additionalProperties$/, '')).properties ?? {}) as JsonSchema)
      const guess = allowed.length > 0 ? closest(key, allowed) : undefined
      const hint = guess && similar(key, guess) ? `did you mean "${guess}"? ` : ''
      return {rule: 'schema.unknown-key', message: `unknown key "${key}": ${hint}allowed keys here are ${allowed.join(', ')}`, pointer: where + makePointer(key), atKey: true}
    }
    case 'required':
      return {rule: 'schema.required', message: `missing required key "${String(p.missingProperty)}"${where === '' ? '' : ` in ${label(where)}`}`, pointer: where, atKey: false}
    case 'type':
      return {rule: 'schema.type', message: `expected ${article(String(p.type))}, found ${kindOf(value)}`, pointer: where, atKey: false}
    case 'const':
      return {rule: 'schema.const', message: `must be ${JSON.stringify(p.allowedValue)}, found ${JSON.stringify(value)}`, pointer: where, atKey: false}
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((v) => JSON.stringify(v))
      return {rule: 'schema.enum', message: `${JSON.stringify(value)} is not allowed: use one of ${allowed.join(', ')}`, pointer: where, atKey: false}
    }
    case 'format': {
      const def = FORMATS[String(p.format)]
      return {rule: `schema.format.${String(p.format)}`, message: `${JSON.stringify(value)} is not valid: expected ${def?.expected ?? String(p.format)}`, pointer: where, atKey: false}
    }
    case 'minimum':
    case 'maximum':
      return {rule: `schema.${e.keyword}`, message: `${JSON.stringify(value)} is out of range: must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p.limit)}`, pointer: where, atKey: false}
    case 'minItems':
      return {rule: 'schema.min-items', message: `list must have at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`, pointer: where, atKey: false}
    case 'minLength':
      return {rule: 'schema.min-length', message: 'must not be empty', pointer: where, atKey: false}
    default:
      return {rule: `schema.${e.keyword}`, message: e.message ?? 'invalid value', pointer: where, atKey: false}
  }
}

/** The subschema at an ajv schemaPath such as "#/properties/spec/properties/nodes/items". */
function schemaAt(schemaPath: string): JsonSchema {
  let cur: unknown = clusterSchema()
  for (const raw of schemaPath.replace(/^#\/?/, '').split('/').filter((t) => t !== '')) {
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return (cur ?? {}) as JsonSchema
}

function valueAt(data: unknown, ptr: string): unknown {
  if (ptr === '') return data
  let cur: unknown = data
  for (const raw of ptr.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[token]
  }
  return cur
}

function label(ptr: string): string {
  return ptr.slice(1).replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')
}

function kindOf(v: unknown): string {
  if (v === null) return 'null (an empty value)'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`
  return `${typeof v === 'number' && Number.isInteger(v) ? 'the integer' : `the ${typeof v}`} ${String(v)}`
}

function article(type: string): string {
  const names: Record<string, string> = {object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', null: 'null'}
  return type.split(',').map((t) => names[t] ?? t).join(' or ')
}

function similar(a: string, b: string): boolean {
  const la = a.toLowerCase()
  const lb = b.toLowerCase()
  return la.includes(lb) || lb.includes(la) || distance(la, lb) <= Math.max(2, Math.floor(Math.max(la.length, lb.length) / 3))
}
