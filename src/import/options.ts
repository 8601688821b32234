// The shell options CTDB's event scripts see (core-spec §6.1): the pre-4.9 daemon config
// (ctdbd.conf / sysconfig), then script.options, then events/legacy/NAME.options, later files
// overriding earlier ones. Every variable is accounted for: read by a translator, overridden,
// or reported as not imported. Pure.
import type {ShellVar} from './text.js'
import type {Diagnostics} from './types.js'

/** Pre-4.9 CTDB read these shell files for the daemon and every script. */
export const LEGACY_CONFIG_FILES = ['ctdbd.conf', 'ctdb.sysconfig', 'sysconfig.ctdb', 'default.ctdb'] as const
export const SCRIPT_OPTIONS = 'script.options'

export function scriptOptionsFile(script: string): string {
  return `events/legacy/${script}.options`
}

/** Why a known variable is not imported (prefix match, longest first). */
const NOT_IMPORTED: [string, string][] = [
  ['CTDB_NATGW_SLAVE_ONLY', 'the pre-4.4 per-node switch; mark the node follower-only in the natgw group instead (nodes: [{node: NAME, followerOnly: true}])'],
  ['CTDB_MONITOR_', '05.system\'s disk and memory usage checks have no ctdbctl equivalent; add a service monitor if you rely on them'],
  ['CTDB_SAMBA_', 'ctdbctl\'s smb service checks smbd with `smbcontrol smbd ping`; adjust services[smb].monitor instead'],
  ['CTDB_NFS_CHECKS_DIR', 'ctdbctl does not read nfs-checks.d; adjust services[nfs].monitor instead'],
  ['CTDB_NFS_', 'ctdbctl passes no CTDB_NFS_* variables to the NFS callout; set them in a wrapper around the callout if it needs them'],
  ['CTDB_PER_IP_ROUTING_', '13.per_ip_routing has no ctdbctl equivalent'],
  ['CTDB_DEBUGLEVEL', 'logging is configured on each node\'s daemon, not in the cluster file'],
  ['CTDB_LOGGING', 'logging is configured on each node\'s daemon, not in the cluster file'],
  ['CTDB_NODES', 'the nodes file is read from the directory being imported'],
  ['CTDB_PUBLIC_ADDRESSES', 'public addresses are read from the directory\'s public_addresses (or --public-addresses files)'],
  ['CTDB_NOTIFY_SCRIPT', 'notification scripts have no ctdbctl equivalent'],
  ['CTDB_DBDIR', 'database directories are node-local daemon settings in ctdbctl'],
  ['CTDB_SOCKET', 'the socket path is a node-local daemon setting in ctdbctl'],
  ['CTDB_START_AS_DISABLED', 'in ctdbctl DISABLED survives restarts: disable the node with `ctdbctl node disable` (planned)'],
  ['CTDB_START_AS_STOPPED', 'stop the node with `ctdbctl node stop` (planned) instead'],
]

export class OptionSet {
  private readonly used = new Set<ShellVar>()
  private readonly overrideWarned = new Set<ShellVar>()

  /** `byFile` in any order; precedence comes from the file names. */
  constructor(
    private readonly byFile: Map<string, ShellVar[]>,
    private readonly diag: Diagnostics,
  ) {}

  /** The files a script reads, lowest precedence first. */
  private chain(script: string): string[] {
    return [...LEGACY_CONFIG_FILES, SCRIPT_OPTIONS, scriptOptionsFile(script)]
  }

  /** The value of NAME as event script SCRIPT (e.g. `11.natgw`) sees it; marks it read. */
  get(script: string, name: string): ShellVar | undefined {
    const all = this.chain(script).flatMap((f) => (this.byFile.get(f) ?? []).filter((v) => v.name === name))
    if (all.length === 0) return undefined
    const winner = all[all.length - 1]
    for (const v of all) {
      this.used.add(v)
      if (v !== winner && !this.overrideWarned.has(v)) {
        this.overrideWarned.add(v)
        this.diag.warn(v.file, v.line, `${name} is overridden by ${winner.file}:${winner.line}, so this value is not imported`)
      }
    }
    return winner
  }

  /** The value of NAME in the pre-4.9 daemon config files (last one wins); marks them read. */
  legacyVar(name: string): ShellVar | undefined {
    const all = LEGACY_CONFIG_FILES.flatMap((f) => (this.byFile.get(f) ?? []).filter((v) => v.name === name))
    for (const v of all) this.used.add(v)
    return all[all.length - 1]
  }

  /** Every variable with this prefix in the pre-4.9 daemon config files; marks them read. */
  legacyPrefix(prefix: string): ShellVar[] {
    const all = LEGACY_CONFIG_FILES.flatMap((f) => (this.byFile.get(f) ?? []).filter((v) => v.name.startsWith(prefix)))
    for (const v of all) this.used.add(v)
    return all
  }

  /** Warn about every variable nothing read; call once, last. */
  reportUnused(): void {
    for (const vars of this.byFile.values()) {
      for (const v of vars) {
        if (this.used.has(v)) continue
        const script = /^events\/legacy\/(.+)\.options$/.exec(v.file)?.[1]
        const reason = NOT_IMPORTED.find(([p]) => v.name.startsWith(p))?.[1]
        const misplaced = script !== undefined && misplacedIn(v.name, script)
        this.diag.warn(
          v.file,
          v.line,
          misplaced
            ? `${v.name} in ${script}'s options file is only seen by ${script}, which does not use it (CTDB ignores it there too); not imported`
            : `${v.name}=${v.value} is not imported: ${reason ?? 'it has no ctdbctl equivalent'}`,
        )
      }
    }
  }
}

/** True when NAME belongs to a feature whose script is not SCRIPT. */
function misplacedIn(name: string, script: string): boolean {
  const owner: [string, string][] = [['CTDB_NATGW_', '11.natgw'], ['CTDB_LVS_', '91.lvs'], ['CTDB_NFS_', '60.nfs'], ['CTDB_SAMBA_', '50.samba']]
  const o = owner.find(([p]) => name.startsWith(p))
  return o !== undefined && o[1] !== script
}
