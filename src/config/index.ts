// Loading a cluster file: YAML with positions → schema → semantic rules → normalised model.
import {readFile} from 'node:fs/promises'
import type {ClusterConfig} from './model.js'
import {normalise} from './normalise.js'
import {formatProblem, sortProblems, type Problem} from './problems.js'
import type {RawCluster} from './raw.js'
import {validateAgainstSchema} from './schema.js'
import {checkSemantics, type SemanticOptions} from './semantic.js'
import {parseYaml, positionOf} from './yaml-source.js'

export type {ClusterConfig} from './model.js'
export type {Problem} from './problems.js'
export {formatProblem} from './problems.js'

export interface LoadResult {
  file: string
  /** Sorted by position. */
  problems: Problem[]
  /** Present when there is no error (warnings allowed). */
  config?: ClusterConfig
}

export type LoadOptions = SemanticOptions

export function loadConfigText(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const {source, problems} = parseYaml(text)
  if (problems.length > 0) return {file, problems: sortProblems(problems)}
  const locate = (ptr: string, atKey: boolean) => positionOf(source, ptr, atKey)
  const schemaProblems = validateAgainstSchema(source.data)
  if (schemaProblems.length > 0) {
    return {
      file,
      problems: sortProblems(schemaProblems.map((p) => ({severity: 'error' as const, rule: p.rule, message: p.message, pointer: p.pointer, ...locate(p.pointer, p.atKey)}))),
    }
  }
  const raw = source.data as RawCluster
  const semantic = checkSemantics(raw, options).map((p) => ({...p, ...locate(p.pointer, false)}))
  const sorted = sortProblems(semantic)
  if (sorted.some((p) => p.severity === 'error')) return {file, problems: sorted}
  return {file, problems: sorted, config: normalise(raw)}
}

/** Reads and loads a file; "-" reads standard input. I/O errors are thrown (usage errors). */
export async function loadConfigFile(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  return loadConfigText(await readSource(file), file === '-' ? '<stdin>' : file, options)
}

export class ConfigError extends Error {
  constructor(readonly result: LoadResult) {
    const errors = result.problems.filter((p) => p.severity === 'error')
    super(`${result.file} is not a valid cluster file (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${errors.map((p) => formatProblem(result.file, p)).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** The model of a valid file; throws ConfigError listing every error otherwise. */
export async function readConfig(file: string, options: LoadOptions = {localChecks: false}): Promise<ClusterConfig> {
  const result = await loadConfigFile(file, options)
  if (!result.config) throw new ConfigError(result)
  return result.config
}

export async function readSource(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
