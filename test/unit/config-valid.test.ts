// Valid cluster files: every example loads, normalisation resolves what DESIGN.md §3 promises,
// the schema's "default" annotations equal what normalisation applies, and local checks only warn.
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {stringify} from 'yaml'
import {loadConfigText, type ClusterConfig} from '../../src/config/index.js'
import {parseDuration} from '../../src/config/duration.js'
import {clusterSchema} from '../../src/config/schema.js'

const EXAMPLES = path.resolve('examples')
const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort()
const readExample = (name: string) => readFileSync(path.join(EXAMPLES, name), 'utf8')

function loadValid(text: string, file = 'test.yaml'): ClusterConfig {
  const result = loadConfigText(text, file, {localChecks: false})
  const errors = result.problems.filter((p) => p.severity === 'error')
  if (errors.length > 0 || !result.config) throw new Error(`${file} should be valid:\n${errors.map((p) => `${p.line}:${p.column} ${p.rule} ${p.message}`).join('\n')}`)
  return result.config
}

describe('examples', () => {
  it('include the files issue 2 asks for', () => {
    expect(exampleFiles).toEqual(expect.arrayContaining(['three-node.yaml', 'samba-nfs.yaml', 'lvs.yaml', 'large-64-nodes.yaml']))
  })

  it.each(exampleFiles)('%s loads without any problem (local checks off)', (file) => {
    const result = loadConfigText(readExample(file), file, {localChecks: false})
    expect(result.problems).toEqual([])
    expect(result.config).toBeDefined()
    expect(result.file).toBe(file)
  })

  it('large-64-nodes.yaml has 64 nodes and 1024 public addresses', () => {
    const c = loadValid(readExample('large-64-nodes.yaml'))
    expect(c.nodes).toHaveLength(64)
    expect(c.publicAddresses).toHaveLength(1024)
  })

  it('three-node.yaml is minimal: three nodes, three addresses, everything else defaulted', () => {
    const c = loadValid(readExample('three-node.yaml'))
    expect(c.nodes.map((n) => n.pnn)).toEqual([0, 1, 2])
    expect(c.publicAddresses.map((a) => `${a.address}/${a.prefixLength}`)).toEqual(['192.168.1.10/24', '192.168.1.11/24', '192.168.1.12/24'])
    expect(c.clusterLock).toEqual({type: 'nats-kv', ttlMs: 3000})
    expect([c.natgw, c.lvs, c.databases, c.services]).toEqual([[], [], [], []])
    expect(c.eventScripts).toBeUndefined()
  })

  it('lvs.yaml resolves the helper lock and the follower-only member', () => {
    const c = loadValid(readExample('lvs.yaml'))
    expect(c.clusterLock).toEqual({type: 'helper', command: ['/usr/libexec/ctdb/ctdb_etcd_lock']})
    expect(c.lvs).toEqual([
      {
        name: 'lvs1',
        address: '192.168.2.60',
        family: 4,
        interface: 'eth1',
        nodes: [
          {pnn: 0, followerOnly: false},
          {pnn: 1, followerOnly: false},
          {pnn: 2, followerOnly: false},
          {pnn: 3, followerOnly: true},
        ],
      },
    ])
    // monitor given without interval/timeout/failures: defaults applied.
    expect(c.services[0].monitor).toEqual({command: ['/usr/bin/smbcontrol', 'smbd', 'ping'], intervalMs: 15_000, timeoutMs: 10_000, failures: 1})
  })
})

describe('normalisation of samba-nfs.yaml', () => {
  const text = readExample('samba-nfs.yaml')
  const c = loadValid(text, 'samba-nfs.yaml')

  it('keeps identity and NATS settings', () => {
    expect(c.apiVersion).toBe('ctdbctl/v1')
    expect(c.name).toBe('fs-prod')
    expect(c.nats).toEqual({servers: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222', 'nats://10.0.0.3:4222'], credentials: '/etc/ctdbctl/fs-prod.creds'})
  })

  it('keeps the deleted node, fills in capabilities and the deleted flag', () => {
    expect(c.nodes).toEqual([
      {pnn: 0, name: 'fs1', address: '10.0.0.1', family: 4, capabilities: {leader: true, lmaster: true}, deleted: false},
      {pnn: 1, name: 'fs2', address: '10.0.0.2', family: 4, capabilities: {leader: true, lmaster: true}, deleted: false},
      {pnn: 2, name: 'fs3', address: '10.0.0.3', family: 4, capabilities: {leader: false, lmaster: true}, deleted: false},
      {pnn: 3, name: 'fs4', address: '10.0.0.4', family: 4, capabilities: {leader: true, lmaster: true}, deleted: true},
    ])
  })

  it('resolves the fcntl lock with its default recheck interval in ms', () => {
    expect(c.clusterLock).toEqual({type: 'fcntl', path: '/clusterfs/.ctdb/cluster.lock', recheckIntervalMs: 5000})
  })

  it('parses public addresses into CIDRs and resolves node names to pnns', () => {
    expect(c.publicAddresses).toEqual([
      {address: '192.168.1.10', prefixLength: 24, family: 4, interfaces: ['eth1']},
      {address: '192.168.1.11', prefixLength: 24, family: 4, interfaces: ['eth1', 'eth2'], nodes: [0, 1]},
      {address: '192.168.1.12', prefixLength: 24, family: 4, interfaces: ['eth1']},
      {address: '2001:db8:1::10', prefixLength: 64, family: 6, interfaces: ['eth1']},
    ])
    // "nodes" absent means every node: the key is not invented.
    expect('nodes' in c.publicAddresses[0]).toBe(false)
  })

  it('fills ipAllocation defaults around the given keys', () => {
    expect(c.ipAllocation).toEqual({algorithm: 'lcp2', failback: true, takeover: true, hostOnAllDisabled: false})
  })

  it('resolves the NAT gateway: CIDRs, default static route 0.0.0.0/0, members by pnn with followerOnly', () => {
    expect(c.natgw).toEqual([
      {
        name: 'ng1',
        publicAddress: {address: '192.168.1.50', prefixLength: 24, family: 4},
        publicInterface: 'eth1',
        privateNetwork: {address: '10.0.0.0', prefixLength: 24, family: 4},
        defaultGateway: '192.168.1.1',
        staticRoutes: [{destination: {address: '0.0.0.0', prefixLength: 0, family: 4}}],
        nodes: [
          {pnn: 0, followerOnly: false},
          {pnn: 1, followerOnly: false},
          {pnn: 2, followerOnly: true},
        ],
      },
    ])
    expect(c.lvs).toEqual([])
  })

  it('keeps databases and services; durations become milliseconds', () => {
    expect(c.databases).toEqual([
      {name: 'locking.tdb', kind: 'volatile'},
      {name: 'brlock.tdb', kind: 'volatile'},
      {name: 'secrets.tdb', kind: 'persistent'},
      {name: 'passdb.tdb', kind: 'persistent'},
      {name: 'registry.tdb', kind: 'replicated'},
    ])
    expect(c.services).toEqual([
      {
        name: 'smb',
        monitor: {command: ['/usr/bin/smbcontrol', 'smbd', 'ping'], intervalMs: 15_000, timeoutMs: 10_000, failures: 2},
        start: ['/usr/bin/systemctl', 'start', 'smbd'],
        stop: ['/usr/bin/systemctl', 'stop', 'smbd'],
      },
      {name: 'nfs', nfsCallout: '/usr/lib/ctdbctl/nfs-linux-kernel-callout'},
    ])
  })

  it('resolves every tunable in ms, defaults included', () => {
    expect(c.tunables).toEqual({
      keepaliveIntervalMs: 250,
      keepaliveLimit: 4,
      monitorIntervalMs: 15_000,
      eventScriptTimeoutMs: 30_000,
      recoveryTimeoutMs: 5000,
      takeoverTimeoutMs: 9000,
      banPeriodMs: 300_000,
      tickleUpdateIntervalMs: 20_000,
      tickles: true,
      tickleScanIntervalMs: 2000,
    })
  })

  it('writes IPv6 addresses in canonical form whatever the spelling', () => {
    const respelled = text.replace('2001:db8:1::10/64', '"2001:0DB8:0001:0000:0000:0000:0000:0010/64"')
    expect(respelled).not.toBe(text)
    expect(loadValid(respelled).publicAddresses[3]).toEqual({address: '2001:db8:1::10', prefixLength: 64, family: 6, interfaces: ['eth1']})
  })

  it('sorts nodes by pnn and resolves pnns by name, not by position', () => {
    const shuffled = text
      .replace('    - {pnn: 0, name: fs1, address: 10.0.0.1}\n', '')
      .replace('    - {pnn: 3, name: fs4, address: 10.0.0.4, deleted: true}', '    - {pnn: 3, name: fs4, address: 10.0.0.4, deleted: true}\n    - {pnn: 0, name: fs1, address: 10.0.0.1}')
      .replace('nodes: [fs1, fs2]}', 'nodes: [fs2, fs1]}')
    expect(shuffled).not.toBe(text)
    const s = loadValid(shuffled)
    expect(s.nodes.map((n) => n.name)).toEqual(['fs1', 'fs2', 'fs3', 'fs4'])
    expect(s.publicAddresses[1].nodes).toEqual([0, 1])
    expect(s.natgw[0].nodes.map((m) => m.pnn)).toEqual([0, 1, 2])
  })

  it('keeps explicit static routes with their gateways instead of the default route', () => {
    const routed = text.replace('      defaultGateway: 192.168.1.1\n', '      defaultGateway: 192.168.1.1\n      staticRoutes: [10.1.0.0/16, 10.2.0.0/16@192.168.1.254]\n')
    expect(loadValid(routed).natgw[0].staticRoutes).toEqual([
      {destination: {address: '10.1.0.0', prefixLength: 16, family: 4}},
      {destination: {address: '10.2.0.0', prefixLength: 16, family: 4}, gateway: '192.168.1.254'},
    ])
  })
})

// ---------------------------------------------------------------------------------------------
// Schema "default" annotations ↔ normalisation

type Json = Record<string, unknown>

/** Every schema property with a "default", as a path of keys where "[]" stands for "the first item". */
function schemaDefaults(root: Json): {path: string[]; value: unknown; schema: Json}[] {
  const out: {path: string[]; value: unknown; schema: Json}[] = []
  const resolve = (s: Json): Json => {
    if (typeof s.$ref !== 'string') return s
    const ref = s.$ref.replace(/^#\//, '').split('/')
    let cur: unknown = root
    for (const t of ref) cur = (cur as Json)[t]
    return {...(cur as Json), ...s, $ref: undefined}
  }
  const walk = (raw: Json, at: string[]) => {
    const s = resolve(raw)
    if ('default' in s && at.length > 0) out.push({path: at, value: s.default, schema: s})
    for (const [k, child] of Object.entries((s.properties ?? {}) as Record<string, Json>)) walk(child, [...at, k])
    if (s.items) walk(s.items as Json, [...at, '[]'])
  }
  walk(root, [])
  return out
}

/** A valid document in which every parent of every defaulted key exists. */
function scaffold(): Json {
  return {
    apiVersion: 'ctdbctl/v1',
    kind: 'Cluster',
    metadata: {name: 'fs-defaults'},
    spec: {
      nats: {servers: ['nats://10.0.0.1:4222']},
      nodes: [
        {pnn: 0, name: 'fs1', address: '10.0.0.1', capabilities: {}},
        {pnn: 1, name: 'fs2', address: '10.0.0.2'},
        {pnn: 2, name: 'fs3', address: '10.0.0.3'},
      ],
      clusterLock: {type: 'nats-kv'},
      publicAddresses: [{address: '192.168.1.10/24', interfaces: ['eth1']}],
      ipAllocation: {},
      natgw: [{name: 'ng1', publicAddress: '192.168.1.50/24', publicInterface: 'eth1', privateNetwork: '10.0.0.0/24', staticRoutes: ['10.9.0.0/16'], nodes: [{node: 'fs2'}, 'fs3']}],
      lvs: [{name: 'lvs1', address: '192.168.2.60', interface: 'eth1', nodes: [{node: 'fs2'}, 'fs3']}],
      databases: [{name: 'locking.tdb', kind: 'volatile'}],
      services: [{name: 'smb', monitor: {command: ['/usr/bin/true']}}],
      tunables: {},
    },
  }
}

function edit(doc: Json, at: string[], change: {set: unknown} | 'delete'): Json {
  const copy = structuredClone(doc)
  let cur: unknown = copy
  for (const t of at.slice(0, -1)) {
    cur = t === '[]' ? (cur as unknown[])[0] : (cur as Json)[t]
    if (cur === undefined || cur === null || typeof cur !== 'object') throw new Error(`scaffold lacks ${at.join('.')}`)
  }
  const last = at[at.length - 1]
  if (change === 'delete') delete (cur as Json)[last]
  else (cur as Json)[last] = structuredClone(change.set)
  return copy
}

const normaliseDoc = (doc: Json) => loadValid(stringify(doc), 'scaffold.yaml')
const ms = (v: unknown) => parseDuration(v as string)
const same = (v: unknown) => v

/** Where each schema default lands in the model, and in which units. */
const DEFAULT_IN_MODEL: Record<string, {get: (c: ClusterConfig) => unknown; expected: (schemaDefault: unknown) => unknown}> = {
  'spec.nodes.[].capabilities': {get: (c) => c.nodes[0].capabilities, expected: () => ({leader: true, lmaster: true})},
  'spec.nodes.[].capabilities.leader': {get: (c) => c.nodes[0].capabilities.leader, expected: same},
  'spec.nodes.[].capabilities.lmaster': {get: (c) => c.nodes[0].capabilities.lmaster, expected: same},
  'spec.nodes.[].deleted': {get: (c) => c.nodes[0].deleted, expected: same},
  'spec.clusterLock': {get: (c) => c.clusterLock.type, expected: (d) => (d as Json).type},
  'spec.publicAddresses': {get: (c) => c.publicAddresses, expected: same},
  'spec.ipAllocation': {get: (c) => c.ipAllocation, expected: () => ({algorithm: 'lcp2', failback: true, takeover: true, hostOnAllDisabled: false})},
  'spec.ipAllocation.algorithm': {get: (c) => c.ipAllocation.algorithm, expected: same},
  'spec.ipAllocation.failback': {get: (c) => c.ipAllocation.failback, expected: same},
  'spec.ipAllocation.takeover': {get: (c) => c.ipAllocation.takeover, expected: same},
  'spec.ipAllocation.hostOnAllDisabled': {get: (c) => c.ipAllocation.hostOnAllDisabled, expected: same},
  'spec.natgw': {get: (c) => c.natgw, expected: same},
  // An empty list of static routes means CTDB's default: everything through the gateway.
  'spec.natgw.[].staticRoutes': {get: (c) => c.natgw[0].staticRoutes, expected: () => [{destination: {address: '0.0.0.0', prefixLength: 0, family: 4}}]},
  'spec.natgw.[].nodes.[].followerOnly': {get: (c) => c.natgw[0].nodes[0].followerOnly, expected: same},
  'spec.lvs': {get: (c) => c.lvs, expected: same},
  'spec.lvs.[].nodes.[].followerOnly': {get: (c) => c.lvs[0].nodes[0].followerOnly, expected: same},
  'spec.databases': {get: (c) => c.databases, expected: same},
  'spec.services': {get: (c) => c.services, expected: same},
  'spec.services.[].monitor.interval': {get: (c) => c.services[0].monitor?.intervalMs, expected: ms},
  'spec.services.[].monitor.timeout': {get: (c) => c.services[0].monitor?.timeoutMs, expected: ms},
  'spec.services.[].monitor.failures': {get: (c) => c.services[0].monitor?.failures, expected: same},
  'spec.tunables': {get: (c) => Object.keys(c.tunables).sort(), expected: () => Object.keys(normaliseDoc(scaffold()).tunables).sort()},
  'spec.tunables.keepaliveInterval': {get: (c) => c.tunables.keepaliveIntervalMs, expected: ms},
  'spec.tunables.keepaliveLimit': {get: (c) => c.tunables.keepaliveLimit, expected: same},
  'spec.tunables.monitorInterval': {get: (c) => c.tunables.monitorIntervalMs, expected: ms},
  'spec.tunables.eventScriptTimeout': {get: (c) => c.tunables.eventScriptTimeoutMs, expected: ms},
  'spec.tunables.recoveryTimeout': {get: (c) => c.tunables.recoveryTimeoutMs, expected: ms},
  'spec.tunables.takeoverTimeout': {get: (c) => c.tunables.takeoverTimeoutMs, expected: ms},
  'spec.tunables.banPeriod': {get: (c) => c.tunables.banPeriodMs, expected: ms},
  'spec.tunables.tickleUpdateInterval': {get: (c) => c.tunables.tickleUpdateIntervalMs, expected: ms},
  'spec.tunables.tickles': {get: (c) => c.tunables.tickles, expected: same},
  'spec.tunables.tickleScanInterval': {get: (c) => c.tunables.tickleScanIntervalMs, expected: ms},
}

/** Values other than the default, to show that the key is really read (first one valid wins). */
function otherValues(d: {path: string[]; value: unknown; schema: Json}): unknown[] {
  const v = d.value
  if (typeof v === 'boolean') return [!v]
  if (typeof v === 'number') return [v + 1, v - 1]
  if (Array.isArray(d.schema.enum)) return d.schema.enum.filter((e) => e !== v)
  if (typeof v === 'string' && d.schema.format === 'duration') return [`${parseDuration(v) * 2}ms`, `${parseDuration(v) / 2}ms`]
  if (d.path.join('.') === 'spec.clusterLock') return [{type: 'none'}]
  return []
}

describe('schema defaults equal normalisation', () => {
  const defaults = schemaDefaults(clusterSchema())
  const key = (p: string[]) => p.join('.')

  it('finds the annotated defaults, and each is mapped to its place in the model', () => {
    expect(defaults.length).toBeGreaterThanOrEqual(25)
    expect(defaults.map((d) => key(d.path)).sort()).toEqual(Object.keys(DEFAULT_IN_MODEL).sort())
  })

  it('the scaffold is valid and sets no defaulted key to a non-default value', () => {
    expect(() => normaliseDoc(scaffold())).not.toThrow()
  })

  it.each(defaults.map((d) => [key(d.path), d] as const))('%s', (_k, d) => {
    const map = DEFAULT_IN_MODEL[key(d.path)]
    const absent = normaliseDoc(edit(scaffold(), d.path, 'delete'))
    const explicit = normaliseDoc(edit(scaffold(), d.path, {set: d.value}))
    // Leaving the key out is the same as writing its documented default...
    expect(absent).toEqual(explicit)
    // ...and lands in the model as the documented value, in the model's units.
    expect(map.get(absent)).toEqual(map.expected(d.value))
    // The key is really read: some other valid value changes the model.
    const others = otherValues(d)
    if (others.length > 0) {
      const changed = others
        .map((o) => loadConfigText(stringify(edit(scaffold(), d.path, {set: o})), 'other.yaml', {localChecks: false}).config)
        .find((c) => c !== undefined)
      expect(changed).toBeDefined()
      expect(map.get(changed!)).not.toEqual(map.get(absent))
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Local checks: warnings only

describe('local checks', () => {
  const missing = '/nonexistent/ctdbctl-test/bin/helper'
  const base = readExample('lvs.yaml')
  const withHelper = base.replace('command: [/usr/libexec/ctdb/ctdb_etcd_lock]', `command: [${missing}, --flag]`)
  const withScripts = readExample('three-node.yaml') + '  eventScripts: /nonexistent/ctdbctl-test/events.d\n'
  const withExisting = base.replace('command: [/usr/libexec/ctdb/ctdb_etcd_lock]', `command: [${process.execPath}]`).replace('/usr/bin/smbcontrol', process.execPath)

  it('warns, located, about a helper program that does not exist on this machine', () => {
    expect(withHelper).not.toBe(base)
    const result = loadConfigText(withHelper, 'lvs.yaml')
    const lineNo = withHelper.split('\n').findIndex((l) => l.includes(missing)) + 1
    const warnings = result.problems.filter((p) => p.rule === 'local.missing-path')
    expect(warnings).toContainEqual({
      severity: 'warning',
      rule: 'local.missing-path',
      message: expect.stringContaining(`${missing} does not exist on this machine`),
      pointer: '/spec/clusterLock/command/0',
      line: lineNo,
      column: withHelper.split('\n')[lineNo - 1].indexOf(missing) + 1,
    })
  })

  it('warns about a missing event script directory', () => {
    const result = loadConfigText(withScripts, 'three-node.yaml')
    expect(result.problems).toEqual([
      expect.objectContaining({severity: 'warning', rule: 'local.missing-path', pointer: '/spec/eventScripts', message: expect.stringContaining('/nonexistent/ctdbctl-test/events.d')}),
    ])
    expect(result.config?.eventScripts).toBe('/nonexistent/ctdbctl-test/events.d')
  })

  it('warnings do not make a file invalid', () => {
    for (const text of [withHelper, withScripts]) {
      const result = loadConfigText(text, 'x.yaml')
      expect(result.problems.length).toBeGreaterThan(0)
      expect(result.problems.every((p) => p.severity === 'warning')).toBe(true)
      expect(result.config).toBeDefined()
    }
  })

  it('are silent with localChecks: false, and the model is the same', () => {
    for (const text of [withHelper, withScripts]) {
      const off = loadConfigText(text, 'x.yaml', {localChecks: false})
      expect(off.problems).toEqual([])
      expect(off.config).toEqual(loadConfigText(text, 'x.yaml').config)
    }
  })

  it('do not warn about programs that exist', () => {
    expect(withExisting).toContain(process.execPath)
    expect(loadConfigText(withExisting, 'x.yaml').problems).toEqual([])
  })

  it('also check nfsCallout and start/stop programs', () => {
    const text = readExample('three-node.yaml') + `  services:\n    - {name: nfs, nfsCallout: ${missing}}\n    - {name: smb, start: [${missing}], stop: [${process.execPath}]}\n`
    const result = loadConfigText(text, 'x.yaml')
    expect(result.problems.map((p) => [p.rule, p.pointer])).toEqual([
      ['local.missing-path', '/spec/services/0/nfsCallout'],
      ['local.missing-path', '/spec/services/1/start/0'],
    ])
    expect(result.config).toBeDefined()
  })
})
