// The clean environment event scripts and service commands run with: a fixed PATH and CTDB's
// variables (the daemon's own environment is not passed on).
import {basename, dirname, join} from 'node:path'

export const SCRIPT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

export interface EnvInput {
  cluster: string
  nodeName: string
  pnn: number
  /** The node's data directory; script state lives under it. */
  dataDir: string
  /** The configured eventScripts directory, if any. */
  scriptDir?: string
}

/**
 * CTDB_BASE is CTDB's configuration directory: for a directory laid out as CTDB's
 * (`BASE/events/legacy`) it is BASE, so scripts find `functions` and `script.options` there;
 * otherwise the script directory itself.
 */
export function ctdbBase(scriptDir: string): string {
  if (basename(scriptDir) === 'legacy' && basename(dirname(scriptDir)) === 'events') return dirname(dirname(scriptDir))
  return scriptDir
}

export function scriptVarDir(dataDir: string): string {
  return join(dataDir, 'scripts')
}

export function eventEnv(input: EnvInput, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: SCRIPT_PATH,
    LANG: 'C',
    ...(input.scriptDir ? {CTDB_BASE: ctdbBase(input.scriptDir)} : {}),
    CTDB_VARDIR: input.dataDir,
    CTDB_SCRIPT_VARDIR: scriptVarDir(input.dataDir),
    CTDB_PNN: String(input.pnn),
    CTDBCTL_CLUSTER: input.cluster,
    CTDBCTL_NODE: input.nodeName,
    ...extra,
  }
}
