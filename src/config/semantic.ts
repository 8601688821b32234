// Rules beyond the schema: uniqueness, references, address conflicts, consistency of the
// cluster lock, tunable ranges. Each rule has its own id and message. Runs only on documents
// that passed the schema, so the raw shape can be trusted.
import {existsSync} from 'node:fs'
import {basename} from 'node:path'
import {formatDuration, parseDuration} from './duration.js'
import {cidrContains, firstHost, isNetworkAddress, parseCidr, parseIp} from './ip.js'
import {DEFAULTS} from './normalise.js'
import {pointer, type Severity} from './problems.js'
import {memberName, type RawCluster, type RawMember} from './raw.js'

export interface SemanticProblem {
  severity: Severity
  rule: string
  message: string
  pointer: string
}

export interface SemanticOptions {
  /** Check paths of helpers and scripts on this machine (warnings only). Default true. */
  localChecks?: boolean
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'csh', 'tcsh', 'fish', 'busybox'])

export function checkSemantics(raw: RawCluster, options: SemanticOptions = {}): SemanticProblem[] {
  const out: SemanticProblem[] = []
  const error = (rule: string, ptr: string, message: string) => out.push({severity: 'error', rule, message, pointer: ptr})
  const warn = (rule: string, ptr: string, message: string) => out.push({severity: 'warning', rule, message, pointer: ptr})
  const spec = raw.spec

  // Nodes
  const nodeByName = new Map<string, {index: number; deleted: boolean}>()
  const pnnSeen = new Map<number, string>()
  const addressSeen = new Map<string, string>()
  spec.nodes.forEach((n, i) => {
    const at = pointer('spec', 'nodes', i)
    const other = pnnSeen.get(n.pnn)
    if (other !== undefined) error('nodes.unique-pnn', `${at}/pnn`, `pnn ${n.pnn} is already used by node "${other}": every node, deleted ones included, needs its own pnn`)
    else pnnSeen.set(n.pnn, n.name)
    if (nodeByName.has(n.name)) error('nodes.unique-name', `${at}/name`, `node name "${n.name}" is used twice: node names, deleted ones included, must be unique`)
    else nodeByName.set(n.name, {index: i, deleted: n.deleted === true})
    if (n.deleted !== true) {
      const addr = parseIp(n.address)!.address
      const owner = addressSeen.get(addr)
      if (owner !== undefined) error('nodes.unique-address', `${at}/address`, `address ${n.address} is already the address of node "${owner}": each active node needs its own address`)
      else addressSeen.set(addr, n.name)
    }
  })
  if (!spec.nodes.some((n) => n.deleted !== true && n.capabilities?.leader !== false)) {
    error('nodes.no-leader', pointer('spec', 'nodes'), 'no node may lead: give at least one node that is not deleted the leader capability (capabilities.leader: true)')
  }

  const checkRefs = (list: (RawMember | string)[], at: string) => {
    const listed = new Set<string>()
    list.forEach((m, j) => {
      const name = typeof m === 'string' ? m : memberName(m)
      const ptr = typeof m === 'string' ? `${at}/${j}` : `${at}/${j}/node`
      const node = nodeByName.get(name)
      if (!node) error('refs.unknown-node', ptr, `no node is named "${name}": use one of ${[...nodeByName.keys()].join(', ')}`)
      else if (node.deleted) error('refs.deleted-node', ptr, `node "${name}" is deleted and cannot be referenced: remove it from this list`)
      if (listed.has(name)) error('refs.duplicate-node', ptr, `node "${name}" is listed twice`)
      listed.add(name)
    })
  }

  // Addresses reserved by groups, to detect public addresses that clash with them.
  const groupAddresses = new Map<string, string>()
  ;(spec.natgw ?? []).forEach((g, i) => {
    const addr = parseCidr(g.publicAddress)!.address
    if (!groupAddresses.has(addr)) groupAddresses.set(addr, `natgw group "${g.name}"`)
    else error('natgw.address-conflict', pointer('spec', 'natgw', i, 'publicAddress'), `${addr} is already used by ${groupAddresses.get(addr)}`)
  })
  ;(spec.lvs ?? []).forEach((g, i) => {
    const addr = parseIp(g.address)!.address
    if (!groupAddresses.has(addr)) groupAddresses.set(addr, `lvs group "${g.name}"`)
    else error('lvs.address-conflict', pointer('spec', 'lvs', i, 'address'), `${addr} is already used by ${groupAddresses.get(addr)}`)
  })
  for (const [addr, owner] of groupAddresses) {
    if (addressSeen.has(addr)) {
      const ptr = owner.startsWith('natgw')
        ? pointer('spec', 'natgw', (spec.natgw ?? []).findIndex((g) => parseCidr(g.publicAddress)!.address === addr), 'publicAddress')
        : pointer('spec', 'lvs', (spec.lvs ?? []).findIndex((g) => parseIp(g.address)!.address === addr), 'address')
      error(owner.startsWith('natgw') ? 'natgw.address-conflict' : 'lvs.address-conflict', ptr, `${addr} is the address of node "${addressSeen.get(addr)}"`)
    }
  }

  // Public addresses
  const publicSeen = new Map<string, number>()
  ;(spec.publicAddresses ?? []).forEach((a, i) => {
    const at = pointer('spec', 'publicAddresses', i)
    const cidr = parseCidr(a.address)!
    if (publicSeen.has(cidr.address)) error('addresses.duplicate', `${at}/address`, `public address ${cidr.address} is already declared at publicAddresses[${publicSeen.get(cidr.address)}]`)
    else publicSeen.set(cidr.address, i)
    if (isNetworkAddress(cidr)) error('addresses.network-address', `${at}/address`, `${a.address} names a network, not a host: give the address clients use, e.g. ${firstHost(cidr)}/${cidr.prefixLength}`)
    if (addressSeen.has(cidr.address)) error('addresses.node-address', `${at}/address`, `public address ${cidr.address} is the private address of node "${addressSeen.get(cidr.address)}"`)
    if (groupAddresses.has(cidr.address)) error('addresses.group-address', `${at}/address`, `public address ${cidr.address} is also the address of ${groupAddresses.get(cidr.address)}`)
    const ifaces = new Set<string>()
    a.interfaces.forEach((iface, j) => {
      if (ifaces.has(iface)) error('addresses.duplicate-interface', `${at}/interfaces/${j}`, `interface "${iface}" is listed twice`)
      ifaces.add(iface)
    })
    if (a.nodes) checkRefs(a.nodes, `${at}/nodes`)
  })

  // NAT gateway groups
  const natgwNames = new Set<string>()
  ;(spec.natgw ?? []).forEach((g, i) => {
    const at = pointer('spec', 'natgw', i)
    if (natgwNames.has(g.name)) error('natgw.unique-name', `${at}/name`, `natgw group name "${g.name}" is used twice`)
    natgwNames.add(g.name)
    const pub = parseCidr(g.publicAddress)!
    const priv = parseCidr(g.privateNetwork)!
    if (pub.family !== 4) error('natgw.ipv4-only', `${at}/publicAddress`, 'the NAT gateway works with IPv4 only (iptables MASQUERADE): use an IPv4 address')
    if (priv.family !== 4) error('natgw.ipv4-only', `${at}/privateNetwork`, 'the NAT gateway works with IPv4 only: use an IPv4 private network')
    if (g.defaultGateway !== undefined && parseIp(g.defaultGateway)!.family !== 4) error('natgw.ipv4-only', `${at}/defaultGateway`, 'the default gateway must be an IPv4 address')
    ;(g.staticRoutes ?? []).forEach((r, j) => {
      const [net, gw] = r.split('@')
      if (parseCidr(net)!.family !== 4 || (gw !== undefined && parseIp(gw)!.family !== 4)) error('natgw.ipv4-only', `${at}/staticRoutes/${j}`, 'static routes of the NAT gateway must be IPv4')
    })
    checkRefs(g.nodes, `${at}/nodes`)
    g.nodes.forEach((m, j) => {
      const node = spec.nodes.find((n) => n.name === memberName(m))
      if (node && priv.family === 4 && !cidrContains(priv, node.address)) {
        error('natgw.private-network', pointer('spec', 'natgw', i, 'nodes', j), `node "${node.name}" (${node.address}) is not inside the private network ${g.privateNetwork}`)
      }
    })
    if (g.nodes.every((m) => typeof m !== 'string' && m.followerOnly === true)) {
      error('natgw.no-leader-candidate', `${at}/nodes`, `every node of natgw group "${g.name}" is follower-only, so none can be the gateway: make at least one a plain member`)
    }
  })

  // LVS groups
  const lvsNames = new Set<string>()
  ;(spec.lvs ?? []).forEach((g, i) => {
    const at = pointer('spec', 'lvs', i)
    if (lvsNames.has(g.name)) error('lvs.unique-name', `${at}/name`, `lvs group name "${g.name}" is used twice`)
    lvsNames.add(g.name)
    checkRefs(g.nodes, `${at}/nodes`)
    if (g.nodes.every((m) => typeof m !== 'string' && m.followerOnly === true)) {
      error('lvs.no-leader-candidate', `${at}/nodes`, `every node of lvs group "${g.name}" is follower-only, so none can lead: make at least one a plain member`)
    }
  })

  // Cluster lock
  const lock = spec.clusterLock
  if (lock) {
    const at = pointer('spec', 'clusterLock')
    const allowed: Record<string, string[]> = {'nats-kv': ['ttl'], fcntl: ['path', 'recheckInterval'], helper: ['command'], none: []}
    for (const field of ['path', 'recheckInterval', 'command', 'ttl'] as const) {
      if (lock[field] !== undefined && !allowed[lock.type].includes(field)) {
        error('lock.field-for-type', `${at}/${field}`, `"${field}" does not apply to a cluster lock of type ${lock.type}${allowed[lock.type].length > 0 ? ` (it takes ${allowed[lock.type].join(', ')})` : ''}: remove it`)
      }
    }
    if (lock.type === 'fcntl' && lock.path === undefined) error('lock.fcntl-path', at, 'a cluster lock of type fcntl needs "path": the absolute path of the lock file on the cluster file system')
    if (lock.type === 'helper') {
      if (lock.command === undefined) error('lock.helper-command', at, 'a cluster lock of type helper needs "command": the argv of the mutex helper, e.g. [/usr/libexec/ctdb/ctdb_etcd_lock]')
      else checkArgv(lock.command, `${at}/command`, 'lock.helper-command', 'the mutex helper')
    }
    if (lock.ttl !== undefined) inRange(`${at}/ttl`, lock.ttl, 'lock.ttl-range', 1000, 60_000, 'the lock lease ttl')
    if (lock.recheckInterval !== undefined) inRange(`${at}/recheckInterval`, lock.recheckInterval, 'lock.recheck-range', 1000, 3_600_000, 'the recheck interval')
  }

  // Databases and services
  const dbNames = new Set<string>()
  ;(spec.databases ?? []).forEach((d, i) => {
    if (dbNames.has(d.name)) error('databases.unique-name', pointer('spec', 'databases', i, 'name'), `database "${d.name}" is declared twice`)
    dbNames.add(d.name)
  })
  const serviceNames = new Set<string>()
  ;(spec.services ?? []).forEach((s, i) => {
    const at = pointer('spec', 'services', i)
    if (serviceNames.has(s.name)) error('services.unique-name', `${at}/name`, `service "${s.name}" is declared twice`)
    serviceNames.add(s.name)
    if (!s.monitor && !s.start && !s.stop && !s.nfsCallout) error('services.empty', at, `service "${s.name}" does nothing: give it a monitor, start/stop commands or an nfsCallout`)
    if (s.monitor) {
      checkArgv(s.monitor.command, `${at}/monitor/command`, 'services.command', 'a monitor')
      const interval = parseDuration(s.monitor.interval ?? DEFAULTS.monitor.interval)
      const timeout = parseDuration(s.monitor.timeout ?? DEFAULTS.monitor.timeout)
      if (interval < 1000) error('services.monitor-interval', `${at}/monitor/interval`, 'the monitor interval must be at least 1s')
      if (timeout > interval) error('services.monitor-timeout', `${at}/monitor/timeout`, `the monitor timeout (${s.monitor.timeout ?? DEFAULTS.monitor.timeout}) must not exceed its interval (${s.monitor.interval ?? DEFAULTS.monitor.interval})`)
    }
    if (s.start) checkArgv(s.start, `${at}/start`, 'services.command', 'a start command')
    if (s.stop) checkArgv(s.stop, `${at}/stop`, 'services.command', 'a stop command')
    if (s.nfsCallout) localProgram(s.nfsCallout, `${at}/nfsCallout`)
  })
  if (spec.eventScripts !== undefined && options.localChecks !== false && !existsSync(spec.eventScripts)) {
    warn('local.missing-path', pointer('spec', 'eventScripts'), `event script directory ${spec.eventScripts} does not exist on this machine`)
  }

  // Tunables
  const t = {...DEFAULTS.tunables, ...spec.tunables} as typeof DEFAULTS.tunables
  const tat = (k: string) => pointer('spec', 'tunables', k)
  inRange(tat('keepaliveInterval'), t.keepaliveInterval, 'tunables.range', 100, 10_000, 'keepaliveInterval')
  inRange(tat('monitorInterval'), t.monitorInterval, 'tunables.range', 1000, 3_600_000, 'monitorInterval')
  inRange(tat('eventScriptTimeout'), t.eventScriptTimeout, 'tunables.range', 1000, 3_600_000, 'eventScriptTimeout')
  inRange(tat('takeoverTimeout'), t.takeoverTimeout, 'tunables.range', 1000, 600_000, 'takeoverTimeout')
  inRange(tat('banPeriod'), t.banPeriod, 'tunables.range', 1000, 86_400_000, 'banPeriod')
  inRange(tat('tickleUpdateInterval'), t.tickleUpdateInterval, 'tunables.range', 1000, 3_600_000, 'tickleUpdateInterval')
  inRange(tat('tickleScanInterval'), t.tickleScanInterval, 'tunables.range', 200, 3_600_000, 'tickleScanInterval')
  const detectMs = parseDuration(t.keepaliveInterval) * t.keepaliveLimit
  if (parseDuration(t.recoveryTimeout) <= detectMs) {
    const where = spec.tunables?.recoveryTimeout !== undefined ? tat('recoveryTimeout') : pointer('spec', 'tunables')
    error('tunables.recovery-timeout', where, `recoveryTimeout (${t.recoveryTimeout}) must be longer than keepaliveInterval × keepaliveLimit (${detectMs}ms), or nodes would fence themselves before a failure is even detected`)
  }

  // NATS
  const servers = new Set<string>()
  spec.nats.servers.forEach((s, i) => {
    if (servers.has(s)) error('nats.duplicate-server', pointer('spec', 'nats', 'servers', i), `NATS server ${s} is listed twice`)
    servers.add(s)
  })
  const tls = spec.nats.tls
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    error('nats.tls-pair', pointer('spec', 'nats', 'tls'), 'a TLS client certificate needs its key and a key its certificate: give both "cert" and "key" or neither')
  }
  return out

  function inRange(ptr: string, value: string, rule: string, minMs: number, maxMs: number, what: string) {
    const ms = parseDuration(value)
    if (ms < minMs || ms > maxMs) error(rule, ptr, `${what} is ${value}: it must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`)
  }

  function checkArgv(argv: string[], ptr: string, rule: string, what: string) {
    const program = argv[0]
    if (!program.startsWith('/')) {
      error(rule, `${ptr}/0`, `the program of ${what} must be an absolute path (it is run directly, without a shell or PATH lookup): "${program}"`)
      return
    }
    if (SHELLS.has(basename(program)) && argv.includes('-c')) {
      error(rule, `${ptr}/0`, `${what} runs a shell (${program} -c): commands are run without a shell; give the program and its arguments as a list`)
      return
    }
    localProgram(program, `${ptr}/0`)
  }

  function localProgram(path: string, ptr: string) {
    if (options.localChecks !== false && !existsSync(path)) warn('local.missing-path', ptr, `${path} does not exist on this machine (fine if this is not a cluster node)`)
  }
}
