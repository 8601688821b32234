// A real cluster in network namespaces (src/dev/netlab.ts): each node namespace runs its own
// nats-server and daemon with the iproute2 driver, public addresses live on the nodes' eth1,
// and a client namespace reaches them over the public bridge. Used by the system tests, the
// failover benchmark and `npm run demo` as root. Everything is stopped by pid and removed.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {ClusterClient} from '../client/cluster-client.js'
import type {NatsSettings} from '../config/model.js'
import {generateCreds, OPERATOR, seedFileName, serverConfigFile} from '../security/creds.js'
import {seedConfig} from './seed-config.js'
import {restartNatsServer, startNatsServers, stopNatsServers, stopProcess, type NatsServerHandle} from './nats-servers.js'
import {createNetLab, destroyNetLab, nsExec, type NetLab} from './netlab.js'

const CLI = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface LabClusterOptions {
  nodes: number
  /** Public addresses on the nodes' eth1 (count; addresses .101, .102, … of the public network). */
  publicAddresses: number
  /** Extra YAML under spec (tunables, ipAllocation, cluster lock…). */
  extraSpec?: string
  name?: string
  /** Every daemon serves Prometheus metrics on 0.0.0.0:PORT inside its namespace. */
  metricsPort?: number
  /** NATS without authentication (default: per-node nkey identities and an operator, as `creds generate` sets up). */
  noAuth?: boolean
}

export const SERVICE_PORT = 8445
const SCRIPTS = fileURLToPath(new URL('../../scripts/', import.meta.url))

export interface LabDaemon {
  pnn: number
  ns: string
  pid: number
  process: ChildProcess
  log: string
}

export interface LabCluster {
  lab: NetLab
  dir: string
  configFile: string
  cluster: string
  nats: NatsServerHandle[]
  daemons: LabDaemon[]
  publicAddresses: string[]
  /** How a client reaches the cluster as the operator: all servers, or those of the given nodes. */
  natsTarget(nodes?: number[]): NatsSettings
  /** Environment for `ctdbctl` commands against the lab (cluster file and operator credentials). */
  cliEnv: Record<string, string>
  client(): Promise<ClusterClient>
  startDaemon(pnn: number): LabDaemon
  /** Starts a killed nats-server of node `index` again, same argv and store, and waits until healthy. */
  restartNats(index: number): Promise<NatsServerHandle>
  /** Which node answers on each public address, seen from the client namespace (null = nobody). */
  probe(): Promise<Record<string, string | null>>
  /** Starts a watcher in the client namespace printing answer changes (see scripts/lab-client.mjs). */
  watch(): ChildProcess
  destroy(): Promise<void>
}

export async function createLabCluster(options: LabClusterOptions): Promise<LabCluster> {
  const lab = await createNetLab({nodes: options.nodes})
  const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-lab-'))
  const cluster = options.name ?? 'lab'
  const publicPrefix = lab.publicNet.replace(/\.0\/24$/, '')
  const publicAddresses = Array.from({length: options.publicAddresses}, (_, i) => `${publicPrefix}.${101 + i}`)
  let nats: NatsServerHandle[] = []
  const daemons: LabDaemon[] = []
  const configFile = join(dir, 'cluster.yaml')
  const credsDir = options.noAuth ? undefined : join(dir, 'creds')
  const natsTarget = (nodes?: number[]): NatsSettings => ({
    servers: (nodes ?? nats.map((_, i) => i)).map((i) => nats[i].url),
    ...(credsDir ? {credentials: join(credsDir, seedFileName(OPERATOR))} : {}),
  })

  const startDaemon = (pnn: number): LabDaemon => {
    const node = lab.nodes[pnn]
    const dataDir = join(dir, `n${pnn}`)
    mkdirSync(dataDir, {recursive: true})
    const log = join(dataDir, 'daemon.log')
    const out = openSync(log, 'a')
    const child = spawn('ip', ['netns', 'exec', node.ns, process.execPath, CLI, 'daemon', '--config', configFile, '--node', `n${pnn}`, '--data-dir', dataDir, '--nats-server', nats[pnn].url, '--ip-driver', 'iproute2', ...(credsDir ? ['--nats-creds', join(credsDir, seedFileName(`n${pnn}`))] : []), ...(options.metricsPort === undefined ? [] : ['--metrics-listen', `0.0.0.0:${options.metricsPort}`])], {
      stdio: ['ignore', out, out],
    })
    const d = {pnn, ns: node.ns, pid: child.pid!, process: child, log}
    daemons[pnn] = d
    return d
  }

  const services: ChildProcess[] = []
  const watchers: ChildProcess[] = []
  const destroy = async () => {
    await Promise.all([...services, ...watchers].map((p) => stopProcess(p.pid!, p, 'SIGKILL')))
    await Promise.all(daemons.filter(Boolean).map((d) => stopProcess(d.pid, d.process, 'SIGKILL')))
    await stopNatsServers(nats, 'SIGKILL')
    await destroyNetLab(lab)
    if (!process.env.CTDBCTL_KEEP_LAB) rmSync(dir, {recursive: true, force: true})
  }

  try {
    if (credsDir) generateCreds({name: cluster, nodes: lab.nodes.map((n) => ({pnn: n.index, name: `n${n.index}`, deleted: false}))}, credsDir)
    const authArgs = credsDir ? ['--config', serverConfigFile(credsDir, cluster)] : []
    nats = await startNatsServers({count: options.nodes, dir, clusterName: `${cluster}-nats`, placement: lab.nodes.map((n) => ({ns: n.ns, address: n.privateAddress})), extraArgs: () => authArgs})
    const yaml = [
      'apiVersion: ctdbctl/v1',
      'kind: Cluster',
      'metadata:',
      `  name: ${cluster}`,
      'spec:',
      '  nats:',
      `    servers: [${nats.map((s) => s.url).join(', ')}]`,
      '  nodes:',
      ...lab.nodes.map((n) => `    - {pnn: ${n.index}, name: n${n.index}, address: ${n.privateAddress}}`),
      ...(publicAddresses.length > 0 ? ['  publicAddresses:', ...publicAddresses.map((a) => `    - {address: ${a}/24, interfaces: [eth1]}`)] : []),
    ].join('\n') + '\n' + (options.extraSpec ?? '')
    writeFileSync(configFile, yaml)
    // Node identities may not write the config bucket: the operator seeds it.
    if (credsDir) await seedConfig(natsTarget(), cluster, yaml)
    for (let pnn = 0; pnn < options.nodes; pnn++) {
      services.push(spawn('ip', ['netns', 'exec', lab.nodes[pnn].ns, process.execPath, join(SCRIPTS, 'lab-service.mjs'), String(SERVICE_PORT), `n${pnn}`], {stdio: 'ignore'}))
      startDaemon(pnn)
    }
  } catch (e) {
    await destroy()
    throw e
  }

  return {
    lab,
    dir,
    configFile,
    cluster,
    nats,
    daemons,
    publicAddresses,
    natsTarget,
    cliEnv: {CTDBCTL_CONFIG: configFile, ...(credsDir ? {CTDBCTL_NATS_CREDS: join(credsDir, seedFileName(OPERATOR))} : {})},
    client: () => ClusterClient.connect({cluster, nats: natsTarget()}, 3000),
    startDaemon,
    restartNats: async (index) => {
      nats[index] = await restartNatsServer(nats[index])
      return nats[index]
    },
    probe: async () => JSON.parse(await nsExec(lab.client.ns, [process.execPath, join(SCRIPTS, 'lab-client.mjs'), 'once', String(SERVICE_PORT), ...publicAddresses])) as Record<string, string | null>,
    watch: () => {
      const w = spawn('ip', ['netns', 'exec', lab.client.ns, process.execPath, join(SCRIPTS, 'lab-client.mjs'), 'watch', String(SERVICE_PORT), ...publicAddresses], {stdio: ['ignore', 'pipe', 'ignore']})
      watchers.push(w)
      return w
    },
    destroy,
  }
}
