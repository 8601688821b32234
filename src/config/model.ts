// The fully resolved cluster model produced by normalisation (normalise.ts).
// Every default is applied, durations are milliseconds, node references are pnns,
// addresses are canonical strings (IPv6 compressed, lower case).

export type IpFamily = 4 | 6

export interface Cidr {
  /** Canonical address, without the prefix length. */
  address: string
  prefixLength: number
  family: IpFamily
}

export interface NodeConfig {
  pnn: number
  name: string
  address: string
  family: IpFamily
  capabilities: {leader: boolean; lmaster: boolean}
  deleted: boolean
}

export type ClusterLock =
  | {type: 'nats-kv'; ttlMs: number}
  | {type: 'fcntl'; path: string; recheckIntervalMs: number}
  | {type: 'helper'; command: string[]}
  | {type: 'none'}

export interface PublicAddress extends Cidr {
  interfaces: string[]
  /** pnns allowed to host this address; undefined = every node of the cluster. */
  nodes?: number[]
}

export interface GroupMember {
  pnn: number
  followerOnly: boolean
}

export interface StaticRoute {
  destination: Cidr
  /** Gateway used by the leader for this route instead of the group's defaultGateway. */
  gateway?: string
}

export interface NatgwGroup {
  name: string
  publicAddress: Cidr
  publicInterface: string
  privateNetwork: Cidr
  defaultGateway?: string
  /** Defaults to the single route 0.0.0.0/0, as CTDB. */
  staticRoutes: StaticRoute[]
  nodes: GroupMember[]
}

export interface LvsGroup {
  name: string
  address: string
  family: IpFamily
  interface: string
  nodes: GroupMember[]
}

export type DatabaseKind = 'volatile' | 'persistent' | 'replicated'

export interface DatabaseConfig {
  name: string
  kind: DatabaseKind
}

export interface ServiceMonitor {
  command: string[]
  intervalMs: number
  timeoutMs: number
  failures: number
}

export interface ServiceConfig {
  name: string
  monitor?: ServiceMonitor
  start?: string[]
  stop?: string[]
  nfsCallout?: string
}

export type IpAllocationAlgorithm = 'lcp2' | 'deterministic' | 'nondeterministic'

export interface IpAllocationConfig {
  algorithm: IpAllocationAlgorithm
  /** false = CTDB's NoIPFailback. */
  failback: boolean
  /** false = CTDB's NoIPTakeover. */
  takeover: boolean
  /** CTDB's NoIPHostOnAllDisabled inverted: when every node is unhealthy/disabled, they still host. */
  hostOnAllDisabled: boolean
}

export interface Tunables {
  keepaliveIntervalMs: number
  keepaliveLimit: number
  monitorIntervalMs: number
  eventScriptTimeoutMs: number
  recoveryTimeoutMs: number
  takeoverTimeoutMs: number
  banPeriodMs: number
  tickleUpdateIntervalMs: number
  /** Connection tracking, kill on release and tickle ACKs on take. */
  tickles: boolean
  tickleScanIntervalMs: number
}

export interface NatsSettings {
  servers: string[]
  credentials?: string
  tls?: {ca?: string; cert?: string; key?: string}
}

export interface ClusterConfig {
  apiVersion: 'ctdbctl/v1'
  name: string
  nats: NatsSettings
  /** Sorted by pnn; deleted nodes included (their pnn is never reused). */
  nodes: NodeConfig[]
  clusterLock: ClusterLock
  publicAddresses: PublicAddress[]
  ipAllocation: IpAllocationConfig
  natgw: NatgwGroup[]
  lvs: LvsGroup[]
  databases: DatabaseConfig[]
  services: ServiceConfig[]
  eventScripts?: string
  tunables: Tunables
}
