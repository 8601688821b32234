// CTDB tunables (core-spec §5): `Name=VALUE` lines in ctdb.tunables and tunables.d/*.tunables,
// names case-insensitive, values non-negative integers. Those with a ctdbctl equivalent are
// translated; every other one gets a warning naming its file and line. Pure.
import {fileLines, stripBlanks} from './text.js'
import type {Diagnostics} from './types.js'

export interface CtdbTunable {
  /** CTDB's spelling (e.g. `KeepaliveInterval`), or the name as written when unknown. */
  name: string
  value: number
  file: string
  line: number
}

/** Every tunable of current CTDB, in `ctdb listvars` order. */
export const CTDB_TUNABLES = [
  'MaxRedirectCount', 'SeqnumInterval', 'ControlTimeout', 'TraverseTimeout', 'KeepaliveInterval',
  'KeepaliveLimit', 'RecoverTimeout', 'RecoverInterval', 'ElectionTimeout', 'TakeoverTimeout',
  'MonitorInterval', 'TickleUpdateInterval', 'EventScriptTimeout', 'MonitorTimeoutCount',
  'RecoveryGracePeriod', 'RecoveryBanPeriod', 'DatabaseHashSize', 'DatabaseMaxDead',
  'RerecoveryTimeout', 'EnableBans', 'NoIPFailback', 'VerboseMemoryNames', 'RecdPingTimeout',
  'RecdFailCount', 'LogLatencyMs', 'RecLockLatencyMs', 'RecoveryDropAllIPs', 'VacuumInterval',
  'VacuumMaxRunTime', 'RepackLimit', 'VacuumFastPathCount', 'MaxQueueDropMsg', 'AllowUnhealthyDBRead',
  'StatHistoryInterval', 'DeferredAttachTO', 'AllowClientDBAttach', 'FetchCollapse',
  'HopcountMakeSticky', 'StickyDuration', 'StickyPindown', 'NoIPTakeover', 'DBRecordCountWarn',
  'DBRecordSizeWarn', 'DBSizeWarn', 'PullDBPreallocation', 'LockProcessesPerDB', 'RecBufferSizeLimit',
  'QueueBufferSize', 'IPAllocAlgorithm', 'AllowMixedVersions',
] as const

/** Accepted by CTDB with "Setting obsolete tunable variable" and otherwise ignored. */
export const OBSOLETE_TUNABLES = [
  'MaxRedirectCount', 'EventScriptUnhealthyOnTimeout', 'DeterministicIPs', 'LCP2PublicIPs',
  'ReclockPingPeriod', 'DisableIPFailover', 'VerifyRecoveryLock', 'VacuumLimit', 'RecoverPDBBySeqNum',
  'DeferredRebalanceOnNodeAdd', 'NoIPHostOnAllDisabled', 'Samba3AvoidDeadlocks', 'TDBMutexEnabled',
] as const

const CANONICAL = new Map<string, string>([...CTDB_TUNABLES, ...OBSOLETE_TUNABLES].map((n) => [n.toLowerCase(), n]))

/** CTDB's spelling of a tunable name, or undefined when CTDB does not know it. */
export function canonicalTunable(name: string): string | undefined {
  return CANONICAL.get(name.toLowerCase())
}

/** One tunables file. Malformed lines and unknown names get warnings and are skipped. */
export function parseTunablesFile(text: string, file: string, diag: Diagnostics): CtdbTunable[] {
  const out: CtdbTunable[] = []
  for (const {line, text: raw} of fileLines(text)) {
    const t = stripBlanks(raw)
    if (t === '' || t.startsWith('#')) continue
    const eq = t.indexOf('=')
    if (eq <= 0) {
      diag.warn(file, line, `"${t}" is not a Name=VALUE line (CTDB refuses such a tunables file); ignored`)
      continue
    }
    const rawName = stripBlanks(t.slice(0, eq))
    const rawValue = stripBlanks(t.slice(eq + 1))
    const tunable = tunableValue(rawName, rawValue, file, line, diag)
    if (tunable) out.push(tunable)
  }
  return out
}

/** Check one `Name=VALUE` pair (also used for the pre-4.9 `CTDB_SET_Name=VALUE` form). */
export function tunableValue(rawName: string, rawValue: string, file: string, line: number, diag: Diagnostics): CtdbTunable | undefined {
  const name = canonicalTunable(rawName)
  if (name === undefined) {
    diag.warn(file, line, `No such tunable ${rawName}: CTDB does not know it (and refuses to load the file); not imported`)
    return undefined
  }
  if (!/^\d+$/.test(rawValue)) {
    diag.warn(file, line, `${name}=${rawValue}: a tunable value is a non-negative integer (CTDB refuses it); not imported`)
    return undefined
  }
  return {name, value: Number(rawValue), file, line}
}

export interface TranslatedTunables {
  tunables: Record<string, string | number>
  ipAllocation: {algorithm?: 'lcp2' | 'deterministic' | 'nondeterministic'; failback?: boolean; takeover?: boolean; hostOnAllDisabled?: boolean}
  /** Where each translated key came from (`tunables.keepaliveInterval` → source). */
  sources: Map<string, CtdbTunable>
}

interface Range {
  key: string
  minS: number
  maxS: number
}

/** CTDB tunables in seconds that map one to one to a ctdbctl duration, with ctdbctl's allowed range. */
const SECONDS: Record<string, Range> = {
  KeepaliveInterval: {key: 'keepaliveInterval', minS: 1, maxS: 10},
  MonitorInterval: {key: 'monitorInterval', minS: 1, maxS: 3600},
  EventScriptTimeout: {key: 'eventScriptTimeout', minS: 1, maxS: 3600},
  TakeoverTimeout: {key: 'takeoverTimeout', minS: 1, maxS: 600},
  RecoveryBanPeriod: {key: 'banPeriod', minS: 1, maxS: 86_400},
  TickleUpdateInterval: {key: 'tickleUpdateInterval', minS: 1, maxS: 3600},
}

const ALGORITHMS = ['deterministic', 'nondeterministic', 'lcp2'] as const

/** Why a known CTDB tunable has no ctdbctl equivalent (default: generic sentence). */
const UNMAPPED_REASON: Record<string, string> = {
  RecoverTimeout: 'ctdbctl has no recovery-control timeout; its nearest setting, tunables.recoveryTimeout, is the self-fencing delay',
  RecoverInterval: 'the ctdbctl daemon reconciles on events, not on a fixed recovery-loop period',
  ElectionTimeout: 'ctdbctl elects its leader through the cluster lock, never by vote',
  EnableBans: 'ctdbctl always bans misbehaving nodes (for tunables.banPeriod)',
  RecoveryDropAllIPs: 'ctdbctl releases addresses after tunables.recoveryTimeout without a leader or lock (self-fencing)',
  MonitorTimeoutCount: 'ctdbctl counts failures per service (services[].monitor.failures)',
  AllowMixedVersions: 'ctdbctl versions are checked by the applied config, not per keepalive',
}

/** Translate the tunables with an equivalent; warn about the others. Later entries override earlier ones. */
export function translateTunables(list: CtdbTunable[], diag: Diagnostics): TranslatedTunables {
  const result: TranslatedTunables = {tunables: {}, ipAllocation: {}, sources: new Map()}
  const ip: TranslatedTunables['ipAllocation'] = {}
  const seen = new Map<string, CtdbTunable>()
  for (const t of list) {
    const before = seen.get(t.name)
    if (before) diag.warn(before.file, before.line, `${t.name} is set again at ${t.file}:${t.line}; the later value (${t.value}) is used`)
    seen.set(t.name, t)
  }
  for (const t of seen.values()) {
    const range = SECONDS[t.name]
    if (range) {
      let seconds = t.value
      if (seconds < range.minS || seconds > range.maxS) {
        seconds = Math.min(Math.max(seconds, range.minS), range.maxS)
        diag.warn(t.file, t.line, `${t.name}=${t.value} is outside what ctdbctl allows for ${range.key} (${range.minS}s to ${range.maxS}s); imported as ${seconds}s`)
      }
      result.tunables[range.key] = `${seconds}s`
      result.sources.set(`tunables.${range.key}`, t)
      continue
    }
    switch (t.name) {
      case 'KeepaliveLimit': {
        const v = Math.min(Math.max(t.value, 2), 100)
        if (v !== t.value) diag.warn(t.file, t.line, `KeepaliveLimit=${t.value} is outside what ctdbctl allows (2 to 100); imported as ${v}`)
        result.tunables.keepaliveLimit = v
        result.sources.set('tunables.keepaliveLimit', t)
        break
      }
      case 'NoIPFailback':
        ip.failback = t.value === 0
        result.sources.set('ipAllocation.failback', t)
        break
      case 'NoIPTakeover':
        ip.takeover = t.value === 0
        result.sources.set('ipAllocation.takeover', t)
        break
      case 'NoIPHostOnAllDisabled':
        ip.hostOnAllDisabled = t.value === 0
        result.sources.set('ipAllocation.hostOnAllDisabled', t)
        diag.warn(t.file, t.line, `NoIPHostOnAllDisabled is obsolete in current CTDB, which ignores it and never hosts addresses when every node is unhealthy or disabled; translated to ipAllocation.hostOnAllDisabled: ${t.value === 0} as older CTDB versions honoured it`)
        break
      case 'IPAllocAlgorithm': {
        const algorithm = ALGORITHMS[t.value] ?? 'lcp2'
        if (t.value > 2) diag.warn(t.file, t.line, `IPAllocAlgorithm=${t.value} is not 0, 1 or 2; CTDB falls back to 2 (LCP2), and so does the import`)
        ip.algorithm = algorithm
        result.sources.set('ipAllocation.algorithm', t)
        break
      }
      default:
        if ((OBSOLETE_TUNABLES as readonly string[]).includes(t.name)) {
          diag.warn(t.file, t.line, `${t.name} is obsolete: CTDB accepts and ignores it, so it is not imported`)
        } else {
          diag.warn(t.file, t.line, `${t.name}=${t.value} has no ctdbctl equivalent (${UNMAPPED_REASON[t.name] ?? 'it tunes a CTDB internal that ctdbctl does not have'}); not imported`)
        }
    }
  }
  // Keys in the order of the schema.
  for (const k of ['algorithm', 'failback', 'takeover', 'hostOnAllDisabled'] as const) {
    if (ip[k] !== undefined) (result.ipAllocation as Record<string, unknown>)[k] = ip[k]
  }
  return result
}
