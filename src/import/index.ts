// `ctdbctl import`: a CTDB configuration directory → a commented ctdbctl cluster file.
// Pure: takes the directory's files as text (see read-dir.ts for the I/O) and returns the YAML
// plus a warning for everything it could not translate exactly, with file and line.
import {formatDuration, parseDuration} from '../config/duration.js'
import {FORMATS} from '../config/formats.js'
import {parseIp} from '../config/ip.js'
import type {RawCluster, RawClusterLock, RawNode} from '../config/raw.js'
import {DEFAULTS} from '../config/normalise.js'
import {CTDB_CONF, importCtdbConf, lockFrom, type ImportedLock} from './conf.js'
import {Notes, type Ctx} from './context.js'
import {emitYaml} from './emit.js'
import {importLvs, importNatgw} from './groups.js'
import {parseNodesFile} from './nodes.js'
import {LEGACY_CONFIG_FILES, OptionSet, SCRIPT_OPTIONS} from './options.js'
import {mergePerNode, parsePublicAddressesFile, type MergedPublicAddress} from './public-addresses.js'
import {importScripts, scriptStates} from './scripts.js'
import {parseShellOptions, fileLines, type ShellVar} from './text.js'
import {translateTunables, tunableValue, parseTunablesFile, type CtdbTunable} from './tunables.js'
import {
  CtdbImportError,
  DEFAULT_CTDB_BASE,
  DEFAULT_EVENT_SCRIPTS_DIR,
  DEFAULT_SCHEMA_REF,
  Diagnostics,
  type CtdbDirInput,
  type ImportOptions,
  type ImportWarning,
} from './types.js'

export * from './types.js'
export {parseNodesFile} from './nodes.js'
export {parsePublicAddressesFile, mergePerNode} from './public-addresses.js'
export {parseGroupFile} from './groups.js'
export {parseTunablesFile, translateTunables} from './tunables.js'
export {importCtdbConf, lockFrom} from './conf.js'
export {parseIni, parseShellOptions} from './text.js'
export {scriptStates} from './scripts.js'

export interface ImportResult {
  yaml: string
  /** Sorted by file, then line. */
  warnings: ImportWarning[]
  /** The document that `yaml` spells (handy for tests and for a plan). */
  cluster: RawCluster
}

export const NODES = 'nodes'
export const PUBLIC_ADDRESSES = 'public_addresses'
export const TUNABLES = 'ctdb.tunables'
export const HOME_NODES = 'home_nodes'

/** Files that come with CTDB and hold no site configuration; not worth a warning. */
const STOCK_FILES = new Set([
  'functions', 'notify.sh', 'debug-hung-script.sh', 'debug_locks.sh', 'statd-callout', 'nfs-linux-kernel-callout',
  'nfs-ganesha-callout', 'ctdb-crash-cleanup.sh', 'README', 'gcore_trace.sh', 'ctdb.conf.rpmnew', 'ctdb.conf.dpkg-dist',
])

/** A cluster name from a directory name: lower case, other characters → dashes; `ctdb` when nothing is left. */
export function clusterNameFrom(dirName: string): string {
  const name = dirName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '')
  return name === '' ? 'ctdb' : name
}

/** Translate a CTDB directory. Throws CtdbImportError when CTDB itself would refuse the configuration. */
export function importCtdb(input: CtdbDirInput, options: ImportOptions = {}): ImportResult {
  const diag = new Diagnostics()
  const files = input.files
  const ctdbBase = options.ctdbBase ?? DEFAULT_CTDB_BASE
  const prefix = options.namePrefix ?? 'node'
  const name = options.name ?? 'ctdb'
  if (!FORMATS['cluster-name'].validate(name)) diag.error('(options)', undefined, `cluster name "${name}" is not ${FORMATS['cluster-name'].expected}`)
  if (!FORMATS['node-name'].validate(`${prefix}0`)) diag.error('(options)', undefined, `node name prefix "${prefix}" does not make valid node names: ${FORMATS['node-name'].expected}`)
  fail(diag)

  const notes = new Notes()
  const consumed = new Set<string>()

  // Shell options files.
  const byFile = new Map<string, ShellVar[]>()
  const optionFiles = [...LEGACY_CONFIG_FILES, SCRIPT_OPTIONS, ...Object.keys(files).filter((f) => /^events\/legacy\/[^/]+\.options$/.test(f)).sort()]
  for (const f of optionFiles) {
    if (files[f] === undefined) continue
    consumed.add(f)
    byFile.set(f, parseShellOptions(files[f], f, diag, ctdbBase))
  }
  const optionSet = new OptionSet(byFile, diag)

  // ctdb.conf
  if (files[CTDB_CONF] !== undefined) consumed.add(CTDB_CONF)
  const conf = importCtdbConf(files[CTDB_CONF], diag)

  // nodes
  const nodesFile = nodesFileName(files, conf.nodesList, ctdbBase, diag)
  fail(diag)
  consumed.add(nodesFile)
  const nodes = parseNodesFile(files[nodesFile], nodesFile, diag)
  fail(diag)
  const active = nodes.filter((n) => !n.deleted)
  const nodeName = (pnn: number) => `${prefix}${pnn}`
  const ctx: Ctx = {
    files, diag, notes, ctdbBase, nodes, nodeName, options: optionSet, consumed,
    ...(input.scripts === undefined ? {} : {scripts: scriptStates(input.scripts)}),
  }

  const rawNodes: RawNode[] = nodes.map((n) => ({pnn: n.pnn, name: nodeName(n.pnn), address: n.address, ...(n.deleted ? {deleted: true} : {})}))
  notes.above(['spec', 'nodes'], `From ${nodesFile}: a node's pnn is the position of its line (blank lines skipped; every "#" line is a`, `deleted node that keeps its pnn). Names are ${prefix}<pnn>: rename them before the first apply if you like.`)
  nodes.forEach((n, i) => {
    notes.trailing(['spec', 'nodes', i], n.deleted ? `${nodesFile}:${n.line} "${n.text}": deleted, pnn ${n.pnn} is never reused` : `${nodesFile}:${n.line}`)
  })
  applyCapabilities(ctx, conf, rawNodes)

  // Cluster lock
  const lock = clusterLock(ctx, conf.lock)

  // Public addresses
  const publicAddresses = importPublicAddresses(ctx, input, options, conf.failoverDisabled?.line, active.map((n) => n.pnn))

  // Tunables
  const tunables = importTunables(ctx)

  // NAT gateway and LVS
  const reserved = new Map<string, string>()
  for (const n of active) reserved.set(n.address, `the address of node ${nodeName(n.pnn)}`)
  for (const a of publicAddresses) reserved.set(a.address.slice(0, a.address.indexOf('/')), `a public address (${a.sources[0].file}:${a.sources[0].line})`)
  const natgw = importNatgw(ctx, reserved)
  if (natgw) reserved.set(natgw.publicAddress.slice(0, natgw.publicAddress.indexOf('/')), 'the NAT gateway address')
  const lvs = importLvs(ctx, reserved)

  // Event scripts
  const scripts = importScripts(ctx, options.eventScriptsDir ?? DEFAULT_EVENT_SCRIPTS_DIR)

  // Files nothing read
  reportLeftovers(ctx, input, options)
  optionSet.reportUnused()
  fail(diag)

  // The document
  const natsServers = active.map((n) => `nats://${parseIp(n.address)!.family === 6 ? `[${n.address}]` : n.address}:4222`)
  notes.above(['spec', 'nats'], 'One NATS server per active node, at the node\'s address and NATS\'s default port 4222: an assumption', '(CTDB had its own TCP mesh on port 4379). Change them if your NATS servers run elsewhere.')
  notes.trailing(['metadata', 'name'], 'namespaces every NATS subject and bucket; cannot be changed once applied')

  const spec: RawCluster['spec'] = {nats: {servers: natsServers}, nodes: rawNodes, clusterLock: lock}
  if (publicAddresses.length > 0) {
    spec.publicAddresses = publicAddresses.map((a) => ({
      address: a.address,
      interfaces: a.interfaces,
      ...(a.pnns === undefined ? {} : {nodes: a.pnns.map(nodeName)}),
    }))
    publicAddresses.forEach((a, i) => notes.trailing(['spec', 'publicAddresses', i], a.sources.map((s) => `${s.file}:${s.line}`).join(', ')))
  }
  if (Object.keys(tunables.ipAllocation).length > 0) spec.ipAllocation = tunables.ipAllocation
  if (natgw) spec.natgw = [natgw]
  if (lvs) spec.lvs = [lvs]
  if (scripts.services.length > 0) spec.services = scripts.services
  if (scripts.eventScripts !== undefined) spec.eventScripts = scripts.eventScripts
  if (Object.keys(tunables.tunables).length > 0) spec.tunables = tunables.tunables

  const cluster: RawCluster = {apiVersion: 'ctdbctl/v1', kind: 'Cluster', metadata: {name}, spec}
  const header = [
    `yaml-language-server: $schema=${options.schemaRef ?? DEFAULT_SCHEMA_REF}`,
    `Imported by \`ctdbctl import\` from the CTDB configuration in ${options.source ?? ctdbBase}.`,
    'Every setting says where it came from; what could not be translated was printed as a warning.',
    'Review it, then run `ctdbctl validate` and `ctdbctl plan` on this file.',
  ]
  const yaml = emitYaml(cluster, notes, header)
  return {yaml, warnings: sortWarnings(diag.warnings), cluster}
}

function fail(diag: Diagnostics): void {
  if (diag.errors.length > 0) throw new CtdbImportError(sortWarnings(diag.errors), sortWarnings(diag.warnings))
}

function sortWarnings(list: ImportWarning[]): ImportWarning[] {
  return [...list].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0)))
}

/** The nodes file CTDB reads: `[cluster] nodes list` or `<CTDB_BASE>/nodes`. */
function nodesFileName(files: Record<string, string>, nodesList: {value: string; line: number} | undefined, ctdbBase: string, diag: Diagnostics): string {
  const base = ctdbBase.replace(/\/+$/, '')
  if (nodesList && nodesList.value !== `${base}/${NODES}`) {
    const v = nodesList.value
    if (v.startsWith('!')) {
      if (files[NODES] !== undefined) {
        diag.warn(CTDB_CONF, nodesList.line, `[cluster] nodes list = ${v} is a command, which the import does not run; it read the directory's nodes file instead`)
        return NODES
      }
      diag.error(CTDB_CONF, nodesList.line, `[cluster] nodes list = ${v} is a command, which the import does not run, and the directory has no nodes file: save the command's output as ${NODES} in the directory`)
      return NODES
    }
    const rel = v.startsWith(`${base}/`) ? v.slice(base.length + 1) : v.slice(v.lastIndexOf('/') + 1)
    if (files[rel] !== undefined) {
      if (rel !== NODES) diag.warn(CTDB_CONF, nodesList.line, `[cluster] nodes list = ${v}: nodes read from ${rel}`)
      return rel
    }
    if (files[NODES] !== undefined) {
      diag.warn(CTDB_CONF, nodesList.line, `[cluster] nodes list = ${v} is not in the directory; the import read the directory's nodes file instead`)
      return NODES
    }
    diag.error(CTDB_CONF, nodesList.line, `the nodes file ${v} ([cluster] nodes list) is not in the directory: copy it there`)
    return NODES
  }
  if (files[NODES] === undefined) diag.error(NODES, undefined, 'the directory has no nodes file, which every CTDB node needs: is this a CTDB configuration directory (usually /etc/ctdb)?')
  return NODES
}

/** `[cluster] leader capability` / `[legacy] lmaster capability = false` apply to the node whose ctdb.conf this is. */
function applyCapabilities(ctx: Ctx, conf: ReturnType<typeof importCtdbConf>, nodes: RawNode[]): void {
  const addr = conf.nodeAddress
  let target: RawNode | undefined
  if (addr) {
    const ip = parseIp(addr.value)
    target = ip && nodes.find((n) => n.address === ip.address && n.deleted !== true)
    if (!target) ctx.diag.warn(CTDB_CONF, addr.line, `[cluster] node address = ${addr.value} is not the address of an active node in the nodes file`)
    else ctx.diag.warn(CTDB_CONF, addr.line, `[cluster] node address is not imported: which node a daemon is, is a node-local setting in ctdbctl (daemon flag or /etc/ctdbctl/node.yaml); this ctdb.conf was taken to be ${target.name}'s`)
  }
  for (const [entry, cap, what] of [[conf.noLeader, 'leader', '[cluster] leader capability'], [conf.noLmaster, 'lmaster', '[legacy] lmaster capability']] as const) {
    if (!entry) continue
    if (!target) {
      ctx.diag.warn(CTDB_CONF, entry.line, `${what} = false applies to the node this ctdb.conf belongs to, which the import cannot tell ([cluster] node address is not set); set capabilities.${cap}: false on that node by hand; not imported`)
      continue
    }
    target.capabilities = {...target.capabilities, [cap]: false}
    ctx.notes.above(['spec', 'nodes'], `${target.name}: capabilities.${cap} false from ${CTDB_CONF}:${entry.line} (${what} = ${entry.value}).`)
  }
  if (!nodes.some((n) => n.deleted !== true && n.capabilities?.leader !== false)) {
    ctx.diag.error(CTDB_CONF, conf.noLeader?.line, 'no node may lead once the leader capability is removed: give at least one node the leader capability')
  }
}

function clusterLock(ctx: Ctx, fromConf: ImportedLock | undefined): RawClusterLock {
  let imported = fromConf
  const legacy = ctx.options.legacyVar('CTDB_RECOVERY_LOCK')
  if (legacy) {
    if (imported) {
      ctx.diag.warn(legacy.file, legacy.line, `CTDB_RECOVERY_LOCK (pre-4.9) is ignored because ${CTDB_CONF}:${imported.line} sets the cluster lock; not imported`)
    } else if (legacy.value !== '') {
      imported = lockFrom({value: legacy.value, line: legacy.line}, ctx.diag, legacy.file, 'CTDB_RECOVERY_LOCK')
      if (imported) ctx.diag.warn(legacy.file, legacy.line, `CTDB_RECOVERY_LOCK is the deprecated pre-4.9 setting (now [cluster] cluster lock in ctdb.conf): translated to clusterLock type ${imported.lock.type}`)
    }
  }
  const at = ['spec', 'clusterLock']
  if (!imported) {
    if (ctx.diag.errors.length === 0) {
      ctx.diag.warn(CTDB_CONF, undefined, 'no cluster lock is configured: CTDB then elects its leader by vote and has no split-brain protection; imported as clusterLock type none, which keeps that risk: use type nats-kv (a lease in NATS JetStream) unless you have a reason not to')
    }
    ctx.notes.above(at, 'CTDB had no cluster lock ([cluster] cluster lock not set): "none" keeps that, without split-brain protection.', 'Recommended: {type: nats-kv}, a lease in NATS JetStream, or your old lock file with type fcntl.')
    return {type: 'none'}
  }
  const where = `${imported.file}:${imported.line}`
  if (imported.lock.type === 'helper') {
    ctx.notes.above(at, `From ${where} (${imported.setting} = ${imported.text}): CTDB's mutex helpers speak the`, 'same one-character protocol to ctdbctl and run unchanged; the command is split on blanks, as CTDB does.')
  } else {
    ctx.notes.above(at, `From ${where} (${imported.setting} = ${imported.text}): a plain path is the lock file of CTDB's fcntl helper;`, 'ctdbctl rechecks the file every 5s, as CTDB does with a plain path.')
  }
  return imported.lock
}

function importPublicAddresses(ctx: Ctx, input: CtdbDirInput, options: ImportOptions, failoverDisabledLine: number | undefined, activePnns: number[]): MergedPublicAddress[] {
  const at = ['spec', 'publicAddresses']
  const perNode = options.publicAddresses
  const skipped = (file: string, why: string) => {
    for (const {line, text} of fileLines(ctx.files[file])) {
      const t = text.trim()
      if (t !== '' && !t.startsWith('#')) ctx.diag.warn(file, line, `${t}: ${why}; not imported`)
    }
  }
  if (failoverDisabledLine !== undefined) {
    const list = perNode ? Object.values(perNode) : [PUBLIC_ADDRESSES]
    for (const f of list) {
      if (ctx.files[f] === undefined) continue
      ctx.consumed.add(f)
      skipped(f, `[failover] disabled = true (${CTDB_CONF}:${failoverDisabledLine}) means CTDB manages no public address`)
    }
    if (list.every((f) => ctx.files[f] === undefined)) ctx.diag.warn(CTDB_CONF, failoverDisabledLine, '[failover] disabled = true: CTDB manages no public address, and neither will the imported cluster')
    return []
  }
  let merged: MergedPublicAddress[]
  if (perNode && Object.keys(perNode).length > 0) {
    const lists: {pnn: number; addresses: ReturnType<typeof parsePublicAddressesFile>}[] = []
    for (const [key, file] of Object.entries(perNode)) {
      const pnn = Number(key)
      const node = ctx.nodes[pnn]
      if (!Number.isInteger(pnn) || !node) {
        ctx.diag.error(file, undefined, `--public-addresses ${key}=${file}: there is no node ${key} in the nodes file (pnns 0 to ${ctx.nodes.length - 1})`)
        continue
      }
      if (node.deleted) {
        ctx.diag.error(file, undefined, `--public-addresses ${key}=${file}: node ${key} is deleted (commented out in the nodes file) and hosts nothing`)
        continue
      }
      if (ctx.files[file] === undefined) {
        ctx.diag.error(file, undefined, `--public-addresses ${key}=${file}: the file was not read`)
        continue
      }
      ctx.consumed.add(file)
      lists.push({pnn, addresses: parsePublicAddressesFile(ctx.files[file], file, ctx.diag)})
    }
    fail(ctx.diag)
    for (const pnn of activePnns) {
      if (!(pnn in perNode)) ctx.diag.warn(`--public-addresses`, undefined, `no public address file given for node ${pnn} (${ctx.nodeName(pnn)}): it hosts no public address, like a CTDB node without public_addresses`)
    }
    if (ctx.files[PUBLIC_ADDRESSES] !== undefined && !Object.values(perNode).includes(PUBLIC_ADDRESSES)) {
      ctx.consumed.add(PUBLIC_ADDRESSES)
      ctx.diag.warn(PUBLIC_ADDRESSES, undefined, 'ignored: --public-addresses names the per-node files to use (name this file there too if it is one node\'s list)')
    }
    merged = mergePerNode(lists, activePnns, ctx.diag)
    const given = Object.entries(perNode).map(([p, f]) => `${p}=${f}`).join(', ')
    ctx.notes.above(at, `From the per-node public address files (${given}): "nodes" lists the nodes whose file`, 'lists the address; an address without "nodes" was in every active node\'s file.')
  } else {
    if (ctx.files[PUBLIC_ADDRESSES] === undefined) {
      ctx.diag.warn(PUBLIC_ADDRESSES, undefined, 'the directory has no public_addresses file: a CTDB node without it hosts no public address, and neither will the imported cluster')
      return []
    }
    ctx.consumed.add(PUBLIC_ADDRESSES)
    const list = parsePublicAddressesFile(ctx.files[PUBLIC_ADDRESSES], PUBLIC_ADDRESSES, ctx.diag)
    fail(ctx.diag)
    merged = list.map((a) => ({address: a.address, interfaces: a.interfaces, sources: [{file: a.file, line: a.line}]}))
    ctx.notes.above(at, `From ${PUBLIC_ADDRESSES}, taken to be the same on every node (CTDB reads the file on each node: if`, 'yours differ, import again with --public-addresses PNN=FILE for each node). Any node may host these.')
  }
  const nodeAddr = new Map(ctx.nodes.filter((n) => !n.deleted).map((n) => [n.address, n]))
  return merged.filter((a) => {
    const node = nodeAddr.get(a.address.slice(0, a.address.indexOf('/')))
    if (!node) return true
    ctx.diag.warn(a.sources[0].file, a.sources[0].line, `${a.address} is the private address of node ${node.pnn}; ctdbctl refuses a public address that is a node address, so it is not imported`)
    return false
  })
}

function importTunables(ctx: Ctx): ReturnType<typeof translateTunables> {
  const list: CtdbTunable[] = []
  for (const v of ctx.options.legacyPrefix('CTDB_SET_')) {
    const t = tunableValue(v.name.slice('CTDB_SET_'.length), v.value, v.file, v.line, ctx.diag)
    if (t) {
      ctx.diag.warn(v.file, v.line, `${v.name}=${v.value} is the pre-4.9 form of ${t.name}=${v.value} in ctdb.tunables; read as such`)
      list.push(t)
    }
  }
  const tunableFiles = [TUNABLES, ...Object.keys(ctx.files).filter((f) => /^tunables\.d\/[^/]+\.tunables$/.test(f)).sort()]
  for (const f of tunableFiles) {
    if (ctx.files[f] === undefined) continue
    ctx.consumed.add(f)
    list.push(...parseTunablesFile(ctx.files[f], f, ctx.diag))
  }
  const result = translateTunables(list, ctx.diag)
  const at = ['spec', 'tunables']
  for (const [key, t] of result.sources) {
    const [section, name] = key.split('.')
    if (section === 'tunables') ctx.notes.trailing([...at, name], `${t.file}:${t.line} ${t.name}=${t.value}`)
  }
  const ip = [...result.sources].filter(([k]) => k.startsWith('ipAllocation.')).map(([, t]) => `${t.file}:${t.line} ${t.name}=${t.value}`)
  if (ip.length > 0) ctx.notes.above(['spec', 'ipAllocation'], `From ${ip.join(', ')}.`)

  // ctdbctl's self-fencing delay must exceed the time it takes to notice a dead node.
  const t = {...DEFAULTS.tunables, ...result.tunables} as typeof DEFAULTS.tunables
  const intervalMs = parseDuration(t.keepaliveInterval)
  const detectMs = intervalMs * t.keepaliveLimit
  if (parseDuration(t.recoveryTimeout) <= detectMs) {
    const ms = Math.ceil((detectMs + intervalMs) / 1000) * 1000
    result.tunables.recoveryTimeout = formatDuration(ms)
    ctx.notes.trailing([...at, 'recoveryTimeout'], `ctdbctl only: must exceed keepaliveInterval × keepaliveLimit (${formatDuration(detectMs)}); set to that plus one interval`)
  }
  if (Object.keys(result.tunables).length > 0) {
    const from = [...new Set(list.map((l) => l.file))].join(', ')
    ctx.notes.above(at, `From ${from} (CTDB counts these in seconds). Tunables not set here take ctdbctl's defaults, which match`, 'CTDB\'s except for keepalives: ctdbctl notices a silent node after 250ms × 4 = 1s, CTDB after 5s × 5 = 25s.')
  }
  return result
}

/** Warnings for files of the directory no translator read. */
function reportLeftovers(ctx: Ctx, input: CtdbDirInput, options: ImportOptions): void {
  const perNode = new Set(Object.values(options.publicAddresses ?? {}))
  if (ctx.files[HOME_NODES] !== undefined) {
    ctx.consumed.add(HOME_NODES)
    for (const {line, text} of fileLines(ctx.files[HOME_NODES])) {
      const t = text.trim()
      if (t !== '' && !t.startsWith('#')) ctx.diag.warn(HOME_NODES, line, `"${t}": fixed home nodes (deterministic algorithm only) have no ctdbctl equivalent; not imported`)
    }
  }
  for (const f of Object.keys(ctx.files).sort()) {
    if (ctx.consumed.has(f) || perNode.has(f) || STOCK_FILES.has(f)) continue
    if (f === 'natgw_nodes' || f === 'lvs_nodes') {
      ctx.diag.warn(f, undefined, `not imported: no ${f === 'natgw_nodes' ? 'CTDB_NATGW_NODES' : 'CTDB_LVS_NODES'} setting names it, so CTDB does not use it`)
      continue
    }
    if (f.startsWith(`${PUBLIC_ADDRESSES}.`) || f.startsWith(`${PUBLIC_ADDRESSES}-`)) {
      ctx.diag.warn(f, undefined, `looks like one node's public address list, which the import reads only when named: pass --public-addresses PNN=${f} for each node; not imported`)
      continue
    }
    ctx.diag.warn(f, undefined, 'not a CTDB configuration file the import knows; not imported')
  }
  for (const e of input.otherEntries ?? []) {
    if (/^(notify\.d|events\/notification)\//.test(e)) ctx.diag.warn(e, undefined, 'notification scripts have no ctdbctl equivalent (yet); not imported')
    else ctx.diag.warn(e, undefined, 'not read by the import (not a text file of a known kind); not imported')
  }
}
