// Starts and stops local nats-server processes forming one JetStream cluster on loopback:
// used by `ctdbctl dev up` and by the integration tests. Debian's nats-server binary.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'

export interface NatsServerInfo {
  name: string
  host: string
  pid: number
  clientPort: number
  clusterPort: number
  monitorPort: number
  url: string
  storeDir: string
}

export interface NatsServerHandle extends NatsServerInfo {
  process: ChildProcess
  /** How it was spawned (program and argv), to start it again after a kill. */
  spawnArgs: [string, string[]]
}

export interface StartNatsOptions {
  count: number
  /** Data directory; each server gets DIR/nats-N. */
  dir: string
  clusterName?: string
  /** Program to run (default: nats-server from PATH). */
  binary?: string
  /** Extra argv for every server (e.g. --config FILE for authentication). */
  extraArgs?: (index: number) => string[]
  /** Where server logs go (default: DIR/nats-N.log through -l). */
  log?: boolean
  readyTimeoutMs?: number
  /** Let the servers outlive this process (`dev up`). */
  detached?: boolean
  /** Run server i inside network namespace placement[i].ns, listening on placement[i].address. */
  placement?: {ns: string; address: string}[]
}

/** Inside its own network namespace each server can use NATS's standard ports. */
const NS_PORTS = {client: 4222, cluster: 6222, monitor: 8222}

export class NatsServerMissingError extends Error {
  constructor() {
    super('nats-server is not installed: install the Debian package "nats-server" (apt-get install nats-server)')
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as {port: number}
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Starts the servers and waits until every one is healthy. Ports come from freePort(), so on
 * a busy machine another process can take one before the server binds it (the server then
 * exits at once): such a start is retried with fresh ports.
 */
export async function startNatsServers(options: StartNatsOptions): Promise<NatsServerHandle[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNatsServersOnce(options)
    } catch (e) {
      if (!(e instanceof EarlyExitError) || options.placement || attempt >= 3) throw e
    }
  }
}

class EarlyExitError extends Error {}

async function startNatsServersOnce(options: StartNatsOptions): Promise<NatsServerHandle[]> {
  const {count, dir} = options
  const clusterName = options.clusterName ?? 'ctdbctl'
  const host = (i: number) => options.placement?.[i].address ?? '127.0.0.1'
  const ports = []
  for (let i = 0; i < count; i++) ports.push(options.placement ? NS_PORTS : {client: await freePort(), cluster: await freePort(), monitor: await freePort()})
  const routes = ports.map((p, i) => `nats://${host(i)}:${p.cluster}`).join(',')
  const handles: NatsServerHandle[] = []
  try {
    for (let i = 0; i < count; i++) {
      const storeDir = join(dir, `nats-${i}`)
      mkdirSync(storeDir, {recursive: true})
      const name = `${clusterName}-n${i}`
      const argv = ['-a', host(i), '-p', String(ports[i].client), '-m', String(ports[i].monitor), '-n', name, '-js', '-sd', storeDir]
      if (count > 1) argv.push('--cluster_name', clusterName, '--cluster', `nats://${host(i)}:${ports[i].cluster}`, '--routes', routes)
      if (options.log !== false) argv.push('-l', join(dir, `nats-${i}.log`))
      argv.push(...(options.extraArgs?.(i) ?? []))
      const program = options.binary ?? 'nats-server'
      const ns = options.placement?.[i].ns
      const spawnArgs: [string, string[]] = ns ? ['ip', ['netns', 'exec', ns, program, ...argv]] : [program, argv]
      const child = await spawnServer(spawnArgs, options.detached === true)
      handles.push({name, host: host(i), pid: child.pid!, clientPort: ports[i].client, clusterPort: ports[i].cluster, monitorPort: ports[i].monitor, url: `nats://${host(i)}:${ports[i].client}`, storeDir, process: child, spawnArgs})
    }
    await Promise.all(handles.map((h) => waitHealthy(h, options.readyTimeoutMs ?? 15_000)))
    return handles
  } catch (e) {
    await stopNatsServers(handles)
    throw e
  }
}

async function spawnServer([program, argv]: [string, string[]], detached: boolean): Promise<ChildProcess> {
  const child = spawn(program, argv, {stdio: 'ignore', detached})
  if (detached) child.unref()
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new NatsServerMissingError() : e))
  })
  return child
}

/** Starts a stopped server again with the same argv and store (chaos: a killed server returns). */
export async function restartNatsServer(handle: NatsServerHandle, readyTimeoutMs = 30_000): Promise<NatsServerHandle> {
  const child = await spawnServer(handle.spawnArgs, false)
  const restarted = {...handle, pid: child.pid!, process: child}
  await waitHealthy(restarted, readyTimeoutMs)
  return restarted
}

/** Waits until the server answers /healthz with JetStream ready (a meta leader exists). */
export async function waitHealthy(server: NatsServerInfo & {process?: ChildProcess}, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (server.process && server.process.exitCode !== null) throw new EarlyExitError(`nats-server ${server.name} exited with status ${server.process.exitCode}`)
    try {
      const res = await fetch(`http://${server.host}:${server.monitorPort}/healthz`)
      if (res.ok) return
      last = await res.text()
    } catch (e) {
      last = (e as Error).message
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`nats-server ${server.name} not healthy after ${timeoutMs}ms: ${last}`)
}

export async function stopNatsServers(servers: {pid: number; process?: ChildProcess}[], signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await Promise.all(servers.map((s) => stopProcess(s.pid, s.process, signal)))
}

/** Signals a process and waits (up to 5 s, then SIGKILL) until it is gone. */
export async function stopProcess(pid: number, child?: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!alive(pid)) return
  const gone = child
    ? new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))
    : undefined
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  const deadline = Date.now() + 5000
  while (alive(pid) && Date.now() < deadline) {
    if (gone) await Promise.race([gone, new Promise((r) => setTimeout(r, 50))])
    else await new Promise((r) => setTimeout(r, 50))
  }
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* already gone */
    }
    if (gone) await gone
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
