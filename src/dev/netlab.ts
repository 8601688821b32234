// A small network of Linux network namespaces for system tests and the root demo: one
// namespace per node and one for a client, a "private" bridge joining the nodes (and the host,
// so tests can reach every NATS server) and a "public" bridge joining the nodes and the client.
// Every command is an argv array run with iproute2/iptables; teardown removes all of it.
import {execFile, spawn, type ChildProcess, type SpawnOptions} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {promisify} from 'node:util'

const run = promisify(execFile)

export interface LabNode {
  index: number
  ns: string
  /** Address on the private network (eth0). */
  privateAddress: string
  /** Address on the public network (eth1). */
  publicAddress: string
}

export interface NetLab {
  prefix: string
  hub: string
  client: {ns: string; publicAddress: string}
  nodes: LabNode[]
  /** The host's own address on the private bridge. */
  hostAddress: string
  privateNet: string
  publicNet: string
}

export interface NetLabOptions {
  nodes: number
  /** Third octet pair: private 10.<a>.0.0/24 and public 10.<a>.1.0/24. */
  subnet?: number
}

export class MissingToolError extends Error {}

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout
  } catch (e) {
    const err = e as NodeJS.ErrnoException & {stderr?: string}
    if (err.code === 'ENOENT') throw new MissingToolError('the "ip" command is missing: install the Debian package iproute2')
    throw new Error(`ip ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`)
  }
}

/** Fails with a clear sentence when this machine cannot build namespaces (not root, no iproute2). */
export async function checkNetLabSupport(): Promise<void> {
  if (process.getuid?.() !== 0) throw new MissingToolError('system tests need root to create network namespaces (run them as root)')
  await ip('-V')
}

export async function createNetLab(options: NetLabOptions): Promise<NetLab> {
  await checkNetLabSupport()
  const prefix = `ct${randomBytes(2).toString('hex')}`
  const a = options.subnet ?? 50 + Math.floor(Math.random() * 150)
  const lab: NetLab = {
    prefix,
    hub: `${prefix}-hub`,
    client: {ns: `${prefix}-cl`, publicAddress: `10.${a}.1.200`},
    nodes: Array.from({length: options.nodes}, (_, i) => ({index: i, ns: `${prefix}-n${i}`, privateAddress: `10.${a}.0.${i + 1}`, publicAddress: `10.${a}.1.${i + 1}`})),
    hostAddress: `10.${a}.0.254`,
    privateNet: `10.${a}.0.0/24`,
    publicNet: `10.${a}.1.0/24`,
  }
  try {
    await ip('netns', 'add', lab.hub)
    await ip('-n', lab.hub, 'link', 'add', 'brpriv', 'type', 'bridge')
    await ip('-n', lab.hub, 'link', 'add', 'brpub', 'type', 'bridge')
    await ip('-n', lab.hub, 'link', 'set', 'brpriv', 'up')
    await ip('-n', lab.hub, 'link', 'set', 'brpub', 'up')
    // The host joins the private bridge so that tests can reach every NATS server.
    await attach(lab, undefined, 'brpriv', `${prefix}h`, `${lab.hostAddress}/24`, 'h')
    for (const node of lab.nodes) {
      await ip('netns', 'add', node.ns)
      await ip('-n', node.ns, 'link', 'set', 'lo', 'up')
      await attach(lab, node.ns, 'brpriv', 'eth0', `${node.privateAddress}/24`, `${node.index}p`)
      await attach(lab, node.ns, 'brpub', 'eth1', undefined, `${node.index}u`)
    }
    await ip('netns', 'add', lab.client.ns)
    await ip('-n', lab.client.ns, 'link', 'set', 'lo', 'up')
    await attach(lab, lab.client.ns, 'brpub', 'eth0', `${lab.client.publicAddress}/24`, 'c')
    return lab
  } catch (e) {
    await destroyNetLab(lab)
    throw e
  }
}

/** A veth pair from `ns` (undefined = the host) to a bridge of the hub, named `ifname` inside. */
async function attach(lab: NetLab, ns: string | undefined, bridge: string, ifname: string, address: string | undefined, tag: string): Promise<void> {
  const inner = `${lab.prefix}${tag}i`
  const outer = `${lab.prefix}${tag}o`
  await ip('link', 'add', inner, 'type', 'veth', 'peer', 'name', outer)
  await ip('link', 'set', outer, 'netns', lab.hub)
  await ip('-n', lab.hub, 'link', 'set', outer, 'master', bridge)
  await ip('-n', lab.hub, 'link', 'set', outer, 'up')
  if (ns) {
    await ip('link', 'set', inner, 'netns', ns)
    await ip('-n', ns, 'link', 'set', inner, 'name', ifname)
    if (address) await ip('-n', ns, 'addr', 'add', address, 'dev', ifname)
    await ip('-n', ns, 'link', 'set', ifname, 'up')
  } else {
    if (address) await ip('addr', 'add', address, 'dev', inner)
    await ip('link', 'set', inner, 'up')
  }
}

/** Removes every namespace and the host's veth; namespaces' processes must be stopped first. */
export async function destroyNetLab(lab: NetLab): Promise<void> {
  for (const ns of [...lab.nodes.map((n) => n.ns), lab.client.ns, lab.hub]) {
    await ip('netns', 'del', ns).catch(() => undefined)
  }
  await ip('link', 'del', `${lab.prefix}hi`).catch(() => undefined)
}

/** Runs a command inside a namespace (argv, no shell) and returns its output. */
export async function nsExec(ns: string, argv: string[]): Promise<string> {
  return (await run('ip', ['netns', 'exec', ns, ...argv])).stdout
}

/** Spawns a long-running process inside a namespace; its pid is the process's own. */
export function nsSpawn(ns: string, argv: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...argv], options)
}

/** Cuts (or restores) one node's private link: a partition of that node from the others. */
export async function setPrivateLink(lab: NetLab, node: number, up: boolean): Promise<void> {
  await ip('-n', lab.hub, 'link', 'set', `${lab.prefix}${node}po`, up ? 'up' : 'down')
}
