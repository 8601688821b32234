// Where `ctdbctl plan` gets its two configs: a file, or a file at a Git revision (`git show
// REV:PATH`, run with an argv array, never through a shell).

import {execFile} from 'node:child_process'
import path from 'node:path'
import {promisify} from 'node:util'
import {loadConfigText, readSource, ConfigError} from '../config/index.js'
import type {ConfigSource} from '../cluster/plan/document.js'

const run = promisify(execFile)

/** A problem with the inputs of the plan (unreadable file, bad revision, …): one clear sentence. */
export class PlanInputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PlanInputError'
  }
}

export type AgainstSpec = {type: 'file'; file: string} | {type: 'git'; rev: string; path?: string}

/** `git:REV[:PATH]` or a file name. */
export function parseAgainst(value: string): AgainstSpec {
  if (!value.startsWith('git:')) return {type: 'file', file: value}
  const rest = value.slice(4)
  const colon = rest.indexOf(':')
  const rev = colon < 0 ? rest : rest.slice(0, colon)
  const file = colon < 0 ? undefined : rest.slice(colon + 1)
  if (rev === '') throw new PlanInputError(`--against ${value}: give a revision, as in git:HEAD or git:main:cluster.yaml`)
  if (file === '') throw new PlanInputError(`--against ${value}: the path after the revision is empty; leave out the second colon to use the file's own path`)
  return file === undefined ? {type: 'git', rev} : {type: 'git', rev, path: file}
}

/** Parse and validate config text; invalid → ConfigError (the validator's located errors). */
export function configFromText(text: string, source: string): ConfigSource {
  const result = loadConfigText(text, source, {localChecks: false})
  if (!result.config) throw new ConfigError(result)
  return {source, text, config: result.config}
}

export async function readConfigSource(file: string): Promise<ConfigSource> {
  let text: string
  try {
    text = await readSource(file)
  } catch (error) {
    throw new PlanInputError(`cannot read ${file}: ${describeIoError(error)}`)
  }
  return configFromText(text, file === '-' ? '<stdin>' : file)
}

async function git(cwd: string, args: string[]): Promise<string> {
  const {stdout} = await run('git', args, {cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8'})
  return stdout
}

function gitFailure(error: unknown): string {
  const e = error as NodeJS.ErrnoException & {stderr?: string}
  if (e.code === 'ENOENT') return 'git is not installed (or not on PATH)'
  const stderr = (e.stderr ?? '').trim().split('\n').filter((l) => l !== '').pop()
  return stderr ? stderr.replace(/^fatal: /, '') : e.message
}

/**
 * The base config from Git: `git show REV:PATH`, PATH defaulting to `file`'s path relative to
 * the repository root. null when PATH did not exist at REV (planning against an empty cluster).
 */
export async function readGitSource(file: string, spec: {rev: string; path?: string}): Promise<ConfigSource | null> {
  const dir = path.dirname(path.resolve(file))
  let repoPath = spec.path
  if (repoPath === undefined) {
    let out: string
    try {
      out = await git(dir, ['rev-parse', '--show-toplevel', '--show-prefix'])
    } catch (error) {
      throw new PlanInputError(`cannot use --against git:${spec.rev}: ${file} is not in a Git repository (${gitFailure(error)})`)
    }
    const [, prefix = ''] = out.split('\n')
    repoPath = prefix + path.basename(file)
  }
  const label = `git:${spec.rev}:${repoPath}`
  try {
    await git(dir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${spec.rev}^{commit}`])
  } catch (error) {
    const e = error as {code?: unknown}
    const why = e.code === 1 ? `unknown revision "${spec.rev}"` : gitFailure(error)
    throw new PlanInputError(`cannot read ${label}: ${why}`)
  }
  const object = `${spec.rev}:${repoPath}`
  let type: string
  try {
    type = (await git(dir, ['cat-file', '-t', object])).trim()
  } catch {
    return null // the path did not exist at that revision
  }
  if (type !== 'blob') throw new PlanInputError(`cannot read ${label}: it is a ${type === 'tree' ? 'directory' : type}, not a file`)
  let text: string
  try {
    text = await git(dir, ['show', object])
  } catch (error) {
    throw new PlanInputError(`cannot read ${label}: ${gitFailure(error)}`)
  }
  return configFromText(text, label)
}

export function describeIoError(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  if (e.code === 'ENOENT') return 'no such file'
  if (e.code === 'EISDIR') return 'is a directory, not a cluster file'
  if (e.code === 'EACCES') return 'permission denied'
  return e.message
}
