// Shared by the plan tests: a full-featured base config and a way to derive variants of it.
import {parse, stringify} from 'yaml'
import {loadConfigText} from '../../src/config/index.js'
import type {ClusterConfig} from '../../src/config/model.js'

/** Every section of the config language is used, so every change kind can be produced. */
export const BASE_YAML = `apiVersion: ctdbctl/v1
kind: Cluster
metadata:
  name: fs-prod
spec:
  nats:
    servers: [nats://10.0.0.1:4222, nats://10.0.0.2:4222]
    credentials: /etc/ctdbctl/fs-prod.creds
  nodes:
    - {pnn: 0, name: fs1, address: 10.0.0.1}
    - {pnn: 1, name: fs2, address: 10.0.0.2}
    - {pnn: 2, name: fs3, address: 10.0.0.3, capabilities: {leader: false}}
    - {pnn: 3, name: fs4, address: 10.0.0.4, deleted: true}
  clusterLock:
    type: fcntl
    path: /clusterfs/.ctdb/cluster.lock
  publicAddresses:
    - {address: 192.168.1.10/24, interfaces: [eth1]}
    - {address: 192.168.1.11/24, interfaces: [eth1, eth2], nodes: [fs1, fs2]}
    - {address: 192.168.1.12/24, interfaces: [eth1]}
  ipAllocation: {algorithm: lcp2}
  natgw:
    - name: ng1
      publicAddress: 192.168.1.50/24
      publicInterface: eth1
      privateNetwork: 10.0.0.0/24
      defaultGateway: 192.168.1.1
      nodes: [fs1, fs2, {node: fs3, followerOnly: true}]
  lvs:
    - {name: lvs1, address: 192.168.1.60, interface: eth1, nodes: [fs1, fs2]}
  databases:
    - {name: locking.tdb, kind: volatile}
    - {name: secrets.tdb, kind: persistent}
  services:
    - name: smb
      monitor: {command: [/usr/bin/smbcontrol, smbd, ping], interval: 15s, timeout: 10s, failures: 2}
    - name: nfs
      nfsCallout: /usr/lib/ctdbctl/nfs-linux-kernel-callout
  eventScripts: /etc/ctdbctl/events.d
  tunables: {keepaliveInterval: 250ms, keepaliveLimit: 4}
`

export function load(text: string, file = 'test.yaml'): ClusterConfig {
  const result = loadConfigText(text, file, {localChecks: false})
  if (!result.config) throw new Error(`invalid test config:\n${result.problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n')}`)
  return result.config
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Doc = any

/** The YAML text of BASE_YAML after `edit` changed its parsed document. */
export function variantText(edit: (doc: Doc) => void, text = BASE_YAML): string {
  const doc = parse(text) as Doc
  edit(doc)
  return stringify(doc)
}

export function variant(edit: (doc: Doc) => void, text = BASE_YAML): ClusterConfig {
  return load(variantText(edit, text))
}

export const base = (): ClusterConfig => load(BASE_YAML)
