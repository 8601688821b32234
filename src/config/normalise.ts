// Turns a valid raw document into the fully resolved model. This is the one place where
// defaults are applied (a test checks that they equal the "default" annotations of the schema).
import {parseDuration} from './duration.js'
import {parseCidr, parseIp} from './ip.js'
import type {ClusterConfig, ClusterLock, GroupMember, Tunables} from './model.js'
import {memberName, type RawCluster, type RawClusterLock, type RawMember} from './raw.js'

export const DEFAULTS = {
  capabilities: {leader: true, lmaster: true},
  deleted: false,
  clusterLock: {type: 'nats-kv'} as RawClusterLock,
  natsKvTtl: '3s',
  fcntlRecheckInterval: '5s',
  ipAllocation: {algorithm: 'lcp2', failback: true, takeover: true, hostOnAllDisabled: false} as const,
  staticRoutes: ['0.0.0.0/0'],
  followerOnly: false,
  monitor: {interval: '15s', timeout: '10s', failures: 1},
  tunables: {
    keepaliveInterval: '250ms',
    keepaliveLimit: 4,
    monitorInterval: '15s',
    eventScriptTimeout: '30s',
    recoveryTimeout: '5s',
    takeoverTimeout: '9s',
    banPeriod: '300s',
    tickleUpdateInterval: '20s',
    tickles: true,
    tickleScanInterval: '2s',
  },
}

/** Tunable values in the model's units, defaults applied. */
export function resolveTunables(raw: Record<string, string | number | boolean> = {}): Tunables {
  const t = {...DEFAULTS.tunables, ...raw} as typeof DEFAULTS.tunables
  return {
    keepaliveIntervalMs: parseDuration(t.keepaliveInterval),
    keepaliveLimit: t.keepaliveLimit,
    monitorIntervalMs: parseDuration(t.monitorInterval),
    eventScriptTimeoutMs: parseDuration(t.eventScriptTimeout),
    recoveryTimeoutMs: parseDuration(t.recoveryTimeout),
    takeoverTimeoutMs: parseDuration(t.takeoverTimeout),
    banPeriodMs: parseDuration(t.banPeriod),
    tickleUpdateIntervalMs: parseDuration(t.tickleUpdateInterval),
    tickles: t.tickles,
    tickleScanIntervalMs: parseDuration(t.tickleScanInterval),
  }
}

/** Precondition: `raw` passed the schema and the semantic checks. */
export function normalise(raw: RawCluster): ClusterConfig {
  const spec = raw.spec
  const pnnByName = new Map(spec.nodes.map((n) => [n.name, n.pnn]))
  const pnnOf = (name: string): number => pnnByName.get(name)!
  const members = (list: RawMember[]): GroupMember[] =>
    list.map((m) => ({pnn: pnnOf(memberName(m)), followerOnly: typeof m === 'string' ? DEFAULTS.followerOnly : (m.followerOnly ?? DEFAULTS.followerOnly)}))

  return {
    apiVersion: raw.apiVersion,
    name: raw.metadata.name,
    nats: {
      servers: [...spec.nats.servers],
      ...(spec.nats.credentials === undefined ? {} : {credentials: spec.nats.credentials}),
      ...(spec.nats.tls === undefined ? {} : {tls: {...spec.nats.tls}}),
    },
    nodes: [...spec.nodes]
      .sort((a, b) => a.pnn - b.pnn)
      .map((n) => {
        const ip = parseIp(n.address)!
        return {
          pnn: n.pnn,
          name: n.name,
          address: ip.address,
          family: ip.family,
          capabilities: {...DEFAULTS.capabilities, ...n.capabilities},
          deleted: n.deleted ?? DEFAULTS.deleted,
        }
      }),
    clusterLock: clusterLock(spec.clusterLock ?? DEFAULTS.clusterLock),
    publicAddresses: (spec.publicAddresses ?? []).map((a) => ({
      ...parseCidr(a.address)!,
      interfaces: [...a.interfaces],
      ...(a.nodes === undefined ? {} : {nodes: a.nodes.map(pnnOf).sort((x, y) => x - y)}),
    })),
    ipAllocation: {...DEFAULTS.ipAllocation, ...spec.ipAllocation},
    natgw: (spec.natgw ?? []).map((g) => ({
      name: g.name,
      publicAddress: parseCidr(g.publicAddress)!,
      publicInterface: g.publicInterface,
      privateNetwork: parseCidr(g.privateNetwork)!,
      ...(g.defaultGateway === undefined ? {} : {defaultGateway: parseIp(g.defaultGateway)!.address}),
      staticRoutes: (g.staticRoutes && g.staticRoutes.length > 0 ? g.staticRoutes : DEFAULTS.staticRoutes).map((r) => {
        const [net, gw] = r.split('@')
        return {destination: parseCidr(net)!, ...(gw === undefined ? {} : {gateway: parseIp(gw)!.address})}
      }),
      nodes: members(g.nodes),
    })),
    lvs: (spec.lvs ?? []).map((g) => {
      const ip = parseIp(g.address)!
      return {name: g.name, address: ip.address, family: ip.family, interface: g.interface, nodes: members(g.nodes)}
    }),
    databases: (spec.databases ?? []).map((d) => ({name: d.name, kind: d.kind})),
    services: (spec.services ?? []).map((s) => ({
      name: s.name,
      ...(s.monitor === undefined
        ? {}
        : {
            monitor: {
              command: [...s.monitor.command],
              intervalMs: parseDuration(s.monitor.interval ?? DEFAULTS.monitor.interval),
              timeoutMs: parseDuration(s.monitor.timeout ?? DEFAULTS.monitor.timeout),
              failures: s.monitor.failures ?? DEFAULTS.monitor.failures,
            },
          }),
      ...(s.start === undefined ? {} : {start: [...s.start]}),
      ...(s.stop === undefined ? {} : {stop: [...s.stop]}),
      ...(s.nfsCallout === undefined ? {} : {nfsCallout: s.nfsCallout}),
    })),
    ...(spec.eventScripts === undefined ? {} : {eventScripts: spec.eventScripts}),
    tunables: resolveTunables(spec.tunables),
  }
}

function clusterLock(l: RawClusterLock): ClusterLock {
  switch (l.type) {
    case 'nats-kv':
      return {type: 'nats-kv', ttlMs: parseDuration(l.ttl ?? DEFAULTS.natsKvTtl)}
    case 'fcntl':
      return {type: 'fcntl', path: l.path!, recheckIntervalMs: parseDuration(l.recheckInterval ?? DEFAULTS.fcntlRecheckInterval)}
    case 'helper':
      return {type: 'helper', command: [...l.command!]}
    case 'none':
      return {type: 'none'}
  }
}
