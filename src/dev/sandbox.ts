// `ctdbctl dev up|status|down`: a local cluster on loopback — an N-server NATS cluster with
// JetStream and N daemons — for trying ctdbctl and for the integration tests.
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {alive, startNatsServers, stopNatsServers, stopProcess, type NatsServerInfo} from './nats-servers.js'

export interface SandboxDaemon {
  node: string
  pnn: number
  pid: number
  dataDir: string
  log: string
}

export interface Sandbox {
  dir: string
  cluster: string
  configFile: string
  createdDir: boolean
  nats: NatsServerInfo[]
  daemons: SandboxDaemon[]
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
  const nats = await startNatsServers({count: options.nodes, dir, clusterName: `${cluster}-nats`, detached: true})
  const sandbox: Sandbox = {
    dir,
    cluster,
    configFile: join(dir, 'cluster.yaml'),
    createdDir,
    nats: nats.map(({process: _p, ...info}) => info),
    daemons: [],
  }
  writeFileSync(sandboxFile(dir), JSON.stringify(sandbox, null, 2) + '\n')
  try {
    writeFileSync(sandbox.configFile, clusterYaml(cluster, options.nodes, nats.map((s) => s.url), options.extraSpec))
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
  const argv = [CLI, 'daemon', '--config', sandbox.configFile, '--node', node, '--data-dir', dataDir, '--nats-server', sandbox.nats[pnn % sandbox.nats.length].url, '--ip-driver', 'fake']
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', out, out],
    detached: true,
  })
  child.unref()
  const daemon = {node, pnn, pid: child.pid!, dataDir, log}
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
    rmSync(sandboxFile(dir), {force: true})
  }
  return {stopped}
}
