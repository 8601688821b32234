// The shape of a cluster document once it has passed the JSON schema, before normalisation.

export type RawMember = string | {node: string; followerOnly?: boolean}

export interface RawNode {
  pnn: number
  name: string
  address: string
  capabilities?: {leader?: boolean; lmaster?: boolean}
  deleted?: boolean
}

export interface RawClusterLock {
  type: 'nats-kv' | 'fcntl' | 'helper' | 'none'
  path?: string
  recheckInterval?: string
  command?: string[]
  ttl?: string
}

export interface RawNatgw {
  name: string
  publicAddress: string
  publicInterface: string
  privateNetwork: string
  defaultGateway?: string
  staticRoutes?: string[]
  nodes: RawMember[]
}

export interface RawLvs {
  name: string
  address: string
  interface: string
  nodes: RawMember[]
}

export interface RawService {
  name: string
  monitor?: {command: string[]; interval?: string; timeout?: string; failures?: number}
  start?: string[]
  stop?: string[]
  nfsCallout?: string
}

export interface RawCluster {
  apiVersion: 'ctdbctl/v1'
  kind: 'Cluster'
  metadata: {name: string}
  spec: {
    nats: {servers: string[]; credentials?: string; tls?: {ca?: string; cert?: string; key?: string}}
    nodes: RawNode[]
    clusterLock?: RawClusterLock
    publicAddresses?: {address: string; interfaces: string[]; nodes?: string[]}[]
    ipAllocation?: {algorithm?: 'lcp2' | 'deterministic' | 'nondeterministic'; failback?: boolean; takeover?: boolean; hostOnAllDisabled?: boolean}
    natgw?: RawNatgw[]
    lvs?: RawLvs[]
    databases?: {name: string; kind: 'volatile' | 'persistent' | 'replicated'}[]
    services?: RawService[]
    eventScripts?: string
    tunables?: Record<string, string | number | boolean>
  }
}

export function memberName(m: RawMember): string {
  return typeof m === 'string' ? m : m.node
}
