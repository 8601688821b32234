// Enabled legacy event scripts (core-spec §6.1) → spec.services, or spec.eventScripts for
// site-specific scripts. Pure.
import type {RawService} from '../config/raw.js'
import type {Ctx, ScriptState} from './context.js'
import type {ScriptEntry} from './types.js'

/** `NN.name.script` as CTDB matches it (`[0-9][0-9].*.script`). */
export const SCRIPT_NAME = /^[0-9][0-9]\..+\.script$/

/** Enabled = owner-executable through the symlink; a dangling symlink is disabled (CTDB). */
export function scriptStates(entries: ScriptEntry[]): Map<string, ScriptState> {
  const out = new Map<string, ScriptState>()
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const file = e.path.slice(e.path.lastIndexOf('/') + 1)
    if (!SCRIPT_NAME.test(file)) continue
    const name = file.slice(0, -'.script'.length)
    out.set(name, {...e, name, enabled: e.executable && e.symlink !== 'dangling'})
  }
  return out
}

/** CTDB's own scripts whose work the ctdbctl daemon or another part of the cluster file does. */
const BUILT_IN: Record<string, string> = {
  '00.ctdb': 'the daemon itself',
  '01.reclock': 'spec.clusterLock',
  '10.interface': 'the daemon (public addresses, interface monitoring, connection killing)',
  '11.natgw': 'spec.natgw',
  '91.lvs': 'spec.lvs',
  '95.database': 'the database service',
}

/** CTDB-shipped scripts with no equivalent: they need CTDB's `functions` file and `ctdb` tool. */
const SHIPPED_WITHOUT_EQUIVALENT: Record<string, [what: string, advice: string]> = {
  '05.system': ['monitors disk and memory usage (CTDB_MONITOR_*)', 'add a service monitor if you rely on it'],
  '11.routing': ['adds static routes for public addresses', 'manage those routes outside ctdbctl'],
  '13.per_ip_routing': ['sets up per-address policy routing', 'manage those routes outside ctdbctl'],
  '20.multipathd': ['monitors multipathd', 'add a service monitor if you rely on it'],
  '31.clamd': ['manages clamd', 'add a service for it'],
  '40.vsftpd': ['manages vsftpd', 'add a service for it'],
  '41.httpd': ['manages httpd', 'add a service for it'],
  '46.update-keytabs': ['updates keytabs when winbind starts', 'run it from the winbind service\'s start command'],
  '47.samba-dcerpcd': ['manages samba-dcerpcd', 'add a service for it'],
  '70.iscsi': ['manages the tgtd iSCSI target', 'add a service for it'],
  '99.timeout': ['is a test script', 'nothing to do'],
}

interface ServiceDef {
  service: string
  /** CTDB_SERVICE_* variable naming the init unit, and CTDB's default unit. */
  unitVar?: string
  unit?: string
  /** Pre-4.9 switch that enabled the script. */
  managesVar: string
}

const SERVICES: Record<string, ServiceDef> = {
  '48.netbios': {service: 'nmb', unitVar: 'CTDB_SERVICE_NMB', unit: 'nmbd', managesVar: 'CTDB_MANAGES_SAMBA'},
  '49.winbind': {service: 'winbind', unitVar: 'CTDB_SERVICE_WINBIND', unit: 'winbind', managesVar: 'CTDB_MANAGES_WINBIND'},
  '50.samba': {service: 'smb', unitVar: 'CTDB_SERVICE_SMB', unit: 'smbd', managesVar: 'CTDB_MANAGES_SAMBA'},
  '60.nfs': {service: 'nfs', managesVar: 'CTDB_MANAGES_NFS'},
}

const SYSTEMCTL = '/usr/bin/systemctl'

export interface ScriptsResult {
  services: RawService[]
  eventScripts?: string
}

/** Translate the enabled scripts (and the pre-4.9 CTDB_MANAGES_* switches). */
export function importScripts(ctx: Ctx, eventScriptsDir: string): ScriptsResult {
  const services: RawService[] = []
  const custom: ScriptState[] = []
  const enabled = new Map<string, {script: string; file: string; line?: number; legacy: boolean}>()

  if (ctx.scripts === undefined) {
    ctx.diag.warn('events/legacy', undefined, 'the directory has no events/legacy: no event scripts were imported (add services such as smb or nfs by hand)')
  } else {
    for (const s of ctx.scripts.values()) {
      if (s.symlink === 'dangling') {
        ctx.diag.warn(s.path, undefined, `symlink whose target is missing on this machine: CTDB treats it as disabled, so ${s.name} is not imported (if you copied the directory from a node, copy it with \`cp -rL\` or run the import on the node)`)
      }
      if (!s.enabled) continue
      if (s.name in BUILT_IN || (s.name === '06.nfs' && ctx.scripts.get('60.nfs')?.enabled)) continue
      if (s.name in SERVICES) enabled.set(s.name, {script: s.name, file: s.path, legacy: false})
      else if (s.name in SHIPPED_WITHOUT_EQUIVALENT) {
        const [what, advice] = SHIPPED_WITHOUT_EQUIVALENT[s.name]
        ctx.diag.warn(s.path, undefined, `CTDB's ${s.name} ${what} and has no ctdbctl equivalent, so it is not imported: ${advice}`)
      } else custom.push(s)
    }
  }

  // Pre-4.9 CTDB enabled the service scripts with CTDB_MANAGES_* in ctdbd.conf.
  for (const [script, def] of Object.entries(SERVICES)) {
    if (script === '48.netbios') continue // CTDB_MANAGES_SAMBA is taken for 50.samba
    const v = ctx.options.legacyVar(def.managesVar)
    if (v && v.value.toLowerCase() === 'yes' && !enabled.has(script)) {
      enabled.set(script, {script, file: v.file, line: v.line, legacy: true})
      ctx.diag.warn(v.file, v.line, `${v.name}=yes is the deprecated (pre-4.9) way to enable ${script}: translated to service "${def.service}"`)
    }
  }

  for (const [script, src] of [...enabled.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const def = SERVICES[script]
    const index = services.length
    const at = ['spec', 'services', index]
    const origin = src.legacy ? `${src.file}:${src.line}` : src.file
    if (def.service === 'nfs') {
      const callout = ctx.options.get(script, 'CTDB_NFS_CALLOUT')
      const localhost = ctx.options.get(script, 'CTDB_RPCINFO_LOCALHOST')
      const service: RawService = {name: 'nfs', monitor: {command: ['/usr/sbin/rpcinfo', '-T', 'tcp', localhost?.value || '127.0.0.1', 'nfs', '3']}}
      let calloutPath = `${ctx.ctdbBase.replace(/\/+$/, '')}/nfs-linux-kernel-callout`
      if (callout && callout.value !== '') {
        if (callout.value.startsWith('/')) calloutPath = callout.value
        else {
          ctx.diag.warn(callout.file, callout.line, `CTDB_NFS_CALLOUT=${callout.value} is not an absolute path (ctdbctl runs the callout without PATH lookup); the nfs service gets CTDB's default callout ${calloutPath} instead`)
        }
      }
      service.nfsCallout = calloutPath
      services.push(service)
      ctx.notes.above(
        at,
        `From ${origin}: CTDB's 60.nfs. nfsCallout is ${callout && callout.value.startsWith('/') ? `CTDB_NFS_CALLOUT (${callout.file}:${callout.line})` : 'CTDB\'s default callout (CTDB_NFS_CALLOUT unset)'}, called with the same operations as by CTDB.`,
        `The monitor is the first of CTDB's nfs-checks.d checks (01.nfs.check: NFSv3 over TCP answers rpcinfo${localhost ? `, address from ${localhost.file}:${localhost.line}` : ''}).`,
      )
      continue
    }
    const unitVar = def.unitVar ? ctx.options.get(script, def.unitVar) : undefined
    const unit = unitVar?.value || def.unit!
    const service: RawService = {name: def.service}
    if (def.service === 'smb') service.monitor = {command: ['/usr/bin/smbcontrol', 'smbd', 'ping']}
    if (def.service === 'winbind') service.monitor = {command: ['/usr/bin/wbinfo', '-p']}
    service.start = [SYSTEMCTL, 'start', unit]
    service.stop = [SYSTEMCTL, 'stop', unit]
    services.push(service)
    const otherName: Record<string, string> = {smb: 'smb', nmb: 'nmb'}
    const unitNote = unitVar
      ? `unit ${unit} from ${def.unitVar} (${unitVar.file}:${unitVar.line})`
      : def.service in otherName
        ? `unit ${unit} is the Debian/Ubuntu name; RHEL and SUSE call it ${otherName[def.service]}: edit start and stop there`
        : `unit ${unit}, as CTDB's default`
    const monitorNote =
      def.service === 'smb'
        ? 'CTDB checked that smbd listens on its TCP ports; ctdbctl pings smbd with smbcontrol instead.'
        : def.service === 'winbind'
          ? 'Monitor as CTDB\'s 49.winbind: `wbinfo -p` must succeed.'
          : 'CTDB\'s 48.netbios only starts and stops nmbd; so does this service.'
    ctx.notes.above(at, `From ${origin}: CTDB's ${script} starts and stops the service; ${unitNote}.`, monitorNote)
  }

  let eventScripts: string | undefined
  if (custom.length > 0) {
    eventScripts = eventScriptsDir
    const base = ctx.ctdbBase.replace(/\/+$/, '')
    for (const s of custom) {
      ctx.diag.warn(s.path, undefined, `${s.name} is not a CTDB script ctdbctl knows: copy ${base}/events/legacy/${s.name}.script to ${eventScriptsDir}/ (spec.eventScripts) on every node; it is run with CTDB's events and arguments, but calls to the ctdb tool or CTDB's functions file inside it will not work`)
    }
    ctx.notes.above(['spec', 'eventScripts'], `Site-specific enabled event scripts with no ctdbctl equivalent: ${custom.map((s) => s.name).join(', ')}.`, `Copy them from ${base}/events/legacy/ into this directory on every node.`)
  }
  return {services, ...(eventScripts === undefined ? {} : {eventScripts})}
}
