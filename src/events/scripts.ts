// The event script directory: `NN.name.script` files, run in byte-wise name order; enabled =
// owner-executable (through symlinks; a dangling link is disabled), as CTDB (core-spec §6.1).
import {chmodSync, lstatSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

const SCRIPT_FILE = /^[0-9][0-9]\..+\.script$/
const SCRIPT_NAME = /^[0-9][0-9]\.[A-Za-z0-9_.-]+$/

export interface EventScript {
  /** File name without `.script`, e.g. `10.interface`. */
  name: string
  path: string
  enabled: boolean
}

export function isScriptFile(file: string): boolean {
  return SCRIPT_FILE.test(file)
}

/** Byte-wise order, as CTDB's sort of the file names. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

export function isEnabledMode(mode: number): boolean {
  return (mode & 0o100) !== 0
}

/** The scripts in `dir`, in run order; a missing directory has none. */
export function listScripts(dir: string | undefined): EventScript[] {
  if (!dir) return []
  let files: string[]
  try {
    files = readdirSync(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  return files.filter(isScriptFile).sort(compareNames).map((file) => {
    const path = join(dir, file)
    let enabled = false
    try {
      const st = statSync(path)
      enabled = st.isFile() && isEnabledMode(st.mode)
    } catch {
      enabled = false // dangling symlink
    }
    return {name: file.slice(0, -'.script'.length), path, enabled}
  })
}

/**
 * `event script enable|disable NAME`: chmod u+x / u-x (group and others follow the owner's read
 * bit). Returns whether anything changed. Symlinks are followed (we do not create or remove
 * links into a distribution directory, unlike CTDB).
 */
export function setScriptEnabled(dir: string | undefined, name: string, enabled: boolean): boolean {
  if (!dir) throw new Error('this node has no eventScripts directory configured')
  if (!SCRIPT_NAME.test(name)) throw new Error(`"${name}" is not a script name (NN.name)`)
  const path = join(dir, `${name}.script`)
  let mode: number
  try {
    lstatSync(path)
    mode = statSync(path).mode & 0o7777
  } catch {
    throw new Error(`Script ${name} does not exist in ${dir}`)
  }
  const next = enabled ? mode | 0o100 | ((mode & 0o040) >> 2) | ((mode & 0o004) >> 2) : mode & ~0o111
  if (next === mode && isEnabledMode(mode) === enabled) return false
  chmodSync(path, next)
  return true
}
