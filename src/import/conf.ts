// ctdb.conf (Samba-style INI; core-spec §5, helpers-spec §4.1) → cluster lock, node
// capabilities, and the settings that have no place in a cluster file (warnings). Pure.
import type {RawClusterLock} from '../config/raw.js'
import {parseBool, parseIni, type IniEntry} from './text.js'
import type {Diagnostics} from './types.js'

export const CTDB_CONF = 'ctdb.conf'

export interface ImportedLock {
  lock: RawClusterLock
  file: string
  line: number
  /** The value as written (`!/usr/libexec/...`). */
  text: string
  /** The setting it came from (`cluster lock`, `recovery lock`, `CTDB_RECOVERY_LOCK`). */
  setting: string
}

export interface ConfResult {
  lock?: ImportedLock
  /** `[cluster] nodes list` when set. */
  nodesList?: IniEntry
  /** `[cluster] node address` when set: whose ctdb.conf this is. */
  nodeAddress?: IniEntry
  /** `[cluster] leader capability = false` / `[legacy] lmaster capability = false`. */
  noLeader?: IniEntry
  noLmaster?: IniEntry
  /** `[failover] disabled = true`. */
  failoverDisabled?: IniEntry
}

/** Why an option is not imported. */
const NOT_IMPORTED: Record<string, string> = {
  'cluster/transport': 'ctdbctl nodes talk over NATS (spec.nats), not CTDB\'s transport',
  'cluster/leader timeout': 'ctdbctl notices a lost leader through its lease and heartbeats (tunables.keepaliveInterval, keepaliveLimit, recoveryTimeout)',
  'failover/shutdown failover timeout': 'no ctdbctl equivalent',
  'failover/shutdown extra timeout': 'no ctdbctl equivalent',
  'legacy/start as disabled': 'in ctdbctl DISABLED survives restarts; disable the node once with `ctdbctl node disable` (planned)',
  'legacy/start as stopped': 'stop the node with `ctdbctl node stop` (planned) instead',
  'legacy/realtime scheduling': 'a node-local daemon setting, not part of the cluster file',
  'legacy/script log level': 'logging is configured on each node\'s daemon, not in the cluster file',
  'legacy/no realtime': 'a node-local daemon setting, not part of the cluster file',
  'database/volatile database directory': 'database directories are node-local daemon settings in ctdbctl (LevelDB, not TDB)',
  'database/persistent database directory': 'database directories are node-local daemon settings in ctdbctl (LevelDB, not TDB)',
  'database/state database directory': 'database directories are node-local daemon settings in ctdbctl (LevelDB, not TDB)',
  'database/tdb mutexes': 'ctdbctl databases are LevelDB, not TDB',
  'database/lock debug script': 'ctdbctl databases are LevelDB, not TDB',
  'event/debug script': 'no ctdbctl equivalent (a hung script is killed at eventScriptTimeout)',
  'logging/location': 'logging is configured on each node\'s daemon, not in the cluster file',
  'logging/log level': 'logging is configured on each node\'s daemon, not in the cluster file',
}

/** Interpret ctdb.conf. Absent file = CTDB's defaults (no cluster lock). */
export function importCtdbConf(text: string | undefined, diag: Diagnostics): ConfResult {
  const out: ConfResult = {}
  if (text === undefined) return out
  const entries = parseIni(text, CTDB_CONF, diag)
  const find = (section: string, key: string) => entries.find((e) => e.section === section && e.key === key)
  const set = (key: string) => {
    const e = find('cluster', key)
    if (e && e.value === '') diag.warn(CTDB_CONF, e.line, `[cluster] ${key} is empty, which CTDB treats as not set`)
    return e && e.value !== '' ? e : undefined
  }
  const clusterLock = set('cluster lock')
  const recoveryLock = set('recovery lock')
  if (clusterLock) out.lock = lockFrom(clusterLock, diag)
  if (recoveryLock) {
    if (clusterLock) {
      diag.warn(CTDB_CONF, recoveryLock.line, `[cluster] recovery lock is the deprecated name of cluster lock and is ignored when cluster lock is set (line ${clusterLock.line}), as CTDB does; not imported`)
    } else {
      out.lock = lockFrom(recoveryLock, diag, CTDB_CONF, 'recovery lock')
      diag.warn(CTDB_CONF, recoveryLock.line, `[cluster] recovery lock is deprecated (CTDB 4.9+: [cluster] cluster lock): translated to clusterLock type ${out.lock?.lock.type ?? '?'}`)
    }
  }
  for (const e of entries) {
    const id = `${e.section}/${e.key}`
    if (id === 'cluster/cluster lock' || id === 'cluster/recovery lock') continue
    switch (id) {
      case 'cluster/nodes list':
        out.nodesList = e
        continue
      case 'cluster/node address':
        out.nodeAddress = e
        continue
      case 'cluster/leader capability':
      case 'legacy/lmaster capability':
      case 'failover/disabled': {
        const b = parseBool(e.value)
        if (b === undefined) {
          diag.warn(CTDB_CONF, e.line, `[${e.section}] ${e.key} = ${e.value} is not a boolean (CTDB refuses it); not imported`)
          continue
        }
        if (id === 'failover/disabled' && b) out.failoverDisabled = e
        if (id === 'cluster/leader capability' && !b) out.noLeader = e
        if (id === 'legacy/lmaster capability' && !b) out.noLmaster = e
        continue
      }
    }
    const reason = NOT_IMPORTED[id]
    if (reason !== undefined) diag.warn(CTDB_CONF, e.line, `[${e.section}] ${e.key} = ${e.value} is not imported: ${reason}`)
    else diag.warn(CTDB_CONF, e.line, `[${e.section}] ${e.key} is not an option ctdbctl knows (CTDB rejects unknown options); not imported`)
  }
  return out
}

/**
 * A cluster lock value: `!COMMAND ARGS` runs a mutex helper (split on spaces and TABs, no quoting,
 * no PATH lookup); anything else is the lock file of CTDB's fcntl helper (spaces preserved).
 */
export function lockFrom(e: {value: string; line: number}, diag: Diagnostics, file = CTDB_CONF, setting = 'cluster lock'): ImportedLock | undefined {
  if (e.value.startsWith('!')) {
    const command = e.value.slice(1).split(/[ \t]+/).filter((w) => w !== '')
    if (command.length === 0) {
      diag.error(file, e.line, 'the cluster lock is "!" with no command: CTDB can never take this lock; give the helper\'s absolute path after "!"')
      return undefined
    }
    if (!command[0].startsWith('/')) {
      diag.error(file, e.line, `the cluster lock helper "${command[0]}" is not an absolute path: CTDB runs it without PATH lookup, so this lock never works; write its absolute path (e.g. /usr/libexec/ctdb/${command[0]})`)
      return undefined
    }
    return {lock: {type: 'helper', command}, file, line: e.line, text: e.value, setting}
  }
  if (!e.value.startsWith('/')) {
    diag.error(file, e.line, `the cluster lock file "${e.value}" is not an absolute path: give the absolute path of the lock file on the cluster file system`)
    return undefined
  }
  return {lock: {type: 'fcntl', path: e.value}, file, line: e.line, text: e.value, setting}
}
