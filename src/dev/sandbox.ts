// `ctdbctl dev up|status|down`: a local cluster on loopback — an N-server NATS cluster with
// JetStream and N daemons — for trying ctdbctl and for the integration tests.
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {NatsSettings} from '../config/model.js'
import {generateCreds, seedFileName, serverConfigFile, OPERATOR} from '../security/creds.js'
import {alive, freePort, startNatsServers, stopNatsServers, stopProcess, type NatsServerInfo} from './nats-servers.js'
import {seedConfig} from './seed-config.js'

export interface SandboxDaemon {
  node: string
  pnn: number
  pid: number
  dataDir: string
  log: string
  /** http://127.0.0.1:PORT/metrics when the sandbox serves metrics. */
  metricsUrl?: string
}

export interface Sandbox {
  dir: string
  cluster: string
  configFile: string
  createdDir: boolean
  nats: NatsServerInfo[]
  daemons: SandboxDaemon[]
  /** Metrics port of each daemon (`--metrics-listen`), by pnn. */
  metricsPorts?: number[]
  /** With authentication: the directory of the nkey seeds (`ctdbctl creds generate`). */
  credsDir?: string
}

/** How a client reaches the sandbox (as the operator when it uses authentication). */
export function sandboxNats(sandbox: Sandbox): NatsSettings {
  return {servers: sandbox.nats.map((s) => s.url), ...(sandbox.credsDir ? {credentials: join(sandbox.credsDir, seedFileName(OPERATOR))} : {})}
}

const CLI = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export function sandboxFile(dir: string): string {
  return join(dir, 'dev.json')
}

export function readSandbox(dir: string): Sandbox | undefined {
  const file = sandboxFile(dir)
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as Sandbox
}

export function clusterYaml(name: string, nodes: number, servers: string[], extra = ''): string {
  const lines = [
    '# Written by `ctdbctl dev up`: a local sandbox cluster on loopback.',
    'apiVersion: ctdbctl/v1',
    'kind: Cluster',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  nats:',
    `    servers: [${servers.join(', ')}]`,
    '  nodes:',
    ...Array.from({length: nodes}, (_, i) => `    - {pnn: ${i}, name: n${i}, address: 127.0.0.${i + 1}}`),
  ]
  return lines.join('\n') + '\n' + extra
}

export interface UpOptions {
  nodes: number
  dir: string
  name?: string
  /** Extra YAML appended under spec (tests: tunables, cluster lock). */
  extraSpec?: string
  /** NATS with nkey authentication and per-node permissions (seeds in DIR/creds). */
  auth?: boolean
  /** Every daemon serves Prometheus metrics on a free loopback port. */
  metrics?: boolean
}

export async function sandboxUp(options: UpOptions): Promise<Sandbox> {
  const dir = resolve(options.dir)
  const existing = readSandbox(dir)
  if (existing && [...existing.daemons, ...existing.nats].some((p) => alive(p.pid))) {
    throw new Error(`a sandbox is already running in ${dir}: run \`ctdbctl dev down --dir ${dir}\` first`)
  }
  const createdDir = !existsSync(dir)
  mkdirSync(dir, {recursive: true})
  const cluster = options.name ?? 'dev'
  const nodes = Array.from({length: options.nodes}, (_, pnn) => ({pnn, name: `n${pnn}`, deleted: false}))
  const credsDir = options.auth ? join(dir, 'creds') : undefined
  if (credsDir) generateCreds({name: cluster, nodes}, credsDir)
  const authArgs = credsDir ? ['--config', serverConfigFile(credsDir, cluster)] : []
  const nats = await startNatsServers({count: options.nodes, dir, clusterName: `${cluster}-nats`, detached: true, extraArgs: () => authArgs})
  const sandbox: Sandbox = {
    dir,
    cluster,
    configFile: join(dir, 'cluster.yaml'),
    createdDir,
    nats: nats.map(({process: _p, spawnArgs: _s, ...info}) => info),
    daemons: [],
    ...(credsDir ? {credsDir} : {}),
    ...(options.metrics ? {metricsPorts: await Promise.all(nodes.map(() => freePort()))} : {}),
  }
  writeFileSync(sandboxFile(dir), JSON.stringify(sandbox, null, 2) + '\n')
  try {
    const yaml = clusterYaml(cluster, options.nodes, nats.map((s) => s.url), options.extraSpec)
    writeFileSync(sandbox.configFile, yaml)
    // Nodes may not write the config bucket: the operator seeds it.
    if (credsDir) await seedConfig(sandboxNats(sandbox), cluster, yaml)
    for (let pnn = 0; pnn < options.nodes; pnn++) startDaemon(sandbox, pnn)
    return sandbox
  } catch (e) {
    await sandboxDown(dir)
    throw e
  }
}

/** Starts (or restarts) the daemon of one node of the sandbox, detached, logging to its data dir. */
export function startDaemon(sandbox: Sandbox, pnn: number): SandboxDaemon {
  const node = `n${pnn}`
  const dataDir = join(sandbox.dir, node)
  mkdirSync(dataDir, {recursive: true})
  const log = join(dataDir, 'daemon.log')
  const out = openSync(log, 'a')
  const argv: string[] = [CLI, 'daemon', '--config', sandbox.configFile, '--node', node, '--data-dir', dataDir, '--nats-server', sandbox.nats[pnn % sandbox.nats.length].url, '--ip-driver', 'fake']
  if (sandbox.credsDir) argv.push('--nats-creds', join(sandbox.credsDir, seedFileName(node)))
  const metricsPort = sandbox.metricsPorts?.[pnn]
  if (metricsPort !== undefined) argv.push('--metrics-listen', `127.0.0.1:${metricsPort}`)
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', out, out],
    detached: true,
  })
  child.unref()
  const daemon = {node, pnn, pid: child.pid!, dataDir, log, ...(metricsPort === undefined ? {} : {metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`})}
  // Recorded at once, so that `dev down` stops a restarted daemon too.
  sandbox.daemons[pnn] = daemon
  writeFileSync(sandboxFile(sandbox.dir), JSON.stringify(sandbox, null, 2) + '\n')
  return daemon
}

export async function sandboxDown(dirArg: string): Promise<{stopped: number} | undefined> {
  const dir = resolve(dirArg)
  const sandbox = readSandbox(dir)
  if (!sandbox) return undefined
  let stopped = 0
  await Promise.all(sandbox.daemons.map(async (d) => {
    if (alive(d.pid)) stopped++
    await stopProcess(d.pid)
  }))
  for (const s of sandbox.nats) if (alive(s.pid)) stopped++
  await stopNatsServers(sandbox.nats)
  if (sandbox.createdDir) rmSync(dir, {recursive: true, force: true})
  else {
    for (const d of sandbox.daemons) rmSync(d.dataDir, {recursive: true, force: true})
    for (let i = 0; i < sandbox.nats.length; i++) {
      rmSync(join(dir, `nats-${i}`), {recursive: true, force: true})
      rmSync(join(dir, `nats-${i}.log`), {force: true})
    }
    rmSync(sandbox.configFile, {force: true})
    if (sandbox.credsDir) rmSync(sandbox.credsDir, {recursive: true, force: true})
    rmSync(sandboxFile(dir), {force: true})
  }
  return {stopped}
}
