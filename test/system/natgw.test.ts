// NAT gateway in network namespaces (issue 9 acceptance): three nodes whose only way out is the
// NAT gateway. The "outside" namespace sits on the public bridge with a public-subnet address
// (it is also the default gateway of the NAT gateway) and serves on 203.0.113.10, an address
// nobody else has a route to; it has no route to the private network, so only masqueraded
// traffic gets answers. Nodes have no public addresses: their eth1 is bare.
//
// Needs root, iproute2 and iptables (iptables-nft); fails with a clear message otherwise.
import {execFile, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import type {NatgwGroup, NodeConfig} from '../../src/config/model.js'
import type {ClusterState, NodeFlag} from '../../src/cluster/state.js'
import {checkNetLabSupport, createNetLab, destroyNetLab, nsExec, nsSpawn, type NetLab} from '../../src/dev/netlab.js'
import {natgwDesired, NatgwReconciler, type ReconcileLogger} from '../../src/reconciler/natgw/index.js'
import {IptablesDriver, natgwTag} from '../../src/reconciler/drivers/iptables-driver.js'
import {waitFor} from '../helpers/wait.js'

const run = promisify(execFile)

const SERVICE_ADDRESS = '203.0.113.10'
const SERVICE_PORT = 8080
const NODE_PORT = 8081
const TAG = natgwTag('gw')

/** Tools this test needs, with the Debian package providing each. */
const TOOLS: [string, string[], string][] = [
  ['iptables', ['--version'], 'iptables'],
  ['sysctl', ['-a', '--pattern', '^kernel.ostype$'], 'procps'],
]

async function requireTools(): Promise<void> {
  await checkNetLabSupport()
  for (const [cmd, args, pkg] of TOOLS) {
    try {
      await run(cmd, args)
    } catch (e) {
      throw new Error(`the NAT gateway system test needs "${cmd}" (Debian package ${pkg}): ${(e as Error).message}`)
    }
  }
}

const ip = (...args: string[]) => run('ip', args).then((r) => r.stdout)

/** A TCP server in a namespace that answers every connection with the peer address it saw. */
function startEchoPeer(ns: string, host: string, port: number): Promise<ChildProcess> {
  const script = `const net=require('net');const [h,p]=process.argv.slice(1);
net.createServer((c)=>c.end(c.remoteAddress+'\\n')).listen(+p,h,()=>console.log('ready'))`
  const child = nsSpawn(ns, [process.execPath, '-e', script, host, String(port)], {stdio: ['ignore', 'pipe', 'pipe']})
  return new Promise((resolve, reject) => {
    let err = ''
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child)
    })
    child.on('exit', (code) => reject(new Error(`listener in ${ns} exited (${code}): ${err}`)))
  })
}

/** Connects from a namespace; resolves `OK <address the server saw>` or `ERR <code>`. */
async function connectFrom(ns: string, host: string, port: number, timeoutMs = 2000): Promise<string> {
  const script = `const net=require('net');const [h,p,t]=process.argv.slice(1);
const done=(m)=>{console.log(m);process.exit(0)};setTimeout(()=>done('ERR ETIMEDOUT'),+t);
let buf='';const s=net.connect({host:h,port:+p});s.on('data',(d)=>buf+=d);
s.on('end',()=>done('OK '+buf.trim()));s.on('error',(e)=>done('ERR '+e.code))`
  return (await nsExec(ns, [process.execPath, '-e', script, host, String(port), String(timeoutMs)])).trim()
}

/** Retries a connection for a few seconds (neighbour caches settle after a move); returns the last answer. */
async function connectEventually(ns: string, host: string, port: number): Promise<string> {
  let last = ''
  try {
    return await waitFor(`a connection from ${ns} to ${host}:${port}`, async () => ((last = await connectFrom(ns, host, port, 1000)).startsWith('OK') ? last : undefined), 8000, 100)
  } catch {
    return last
  }
}

describe('NAT gateway in namespaces', () => {
  let lab: NetLab | undefined
  let outsideNs: string | undefined
  let workDir: string | undefined
  const children: ChildProcess[] = []
  let nodes: NodeConfig[]
  let group: NatgwGroup
  let gatewayAddress: string
  let outsideAddress: string
  const reconcilers: NatgwReconciler[] = []
  const warnings: string[] = []
  const logger: ReconcileLogger = {
    info: () => undefined,
    debug: () => undefined,
    warn: (o, m) => warnings.push(`${m}: ${JSON.stringify(o)}`),
  }

  const state = (flags: Record<number, NodeFlag[]> = {}): ClusterState => ({
    cluster: 'natgw-lab',
    nodes: nodes.map((n) => ({pnn: n.pnn, flags: flags[n.pnn] ?? []})),
    publicAddresses: [],
  })
  const reconciler = (pnn: number) =>
    new NatgwReconciler({netns: lab!.nodes[pnn].ns, stateFile: path.join(workDir!, `node${pnn}`, 'natgw-gw.json'), logger})

  /** Every member's ipreallocated for this cluster state (as the daemon does after each reallocation). */
  async function ipreallocated(s: ClusterState, pnns: number[]): Promise<void> {
    for (const pnn of pnns) {
      const d = natgwDesired(group, nodes, s, pnn)
      if (!d.ok) throw new Error(d.message)
      await reconcilers[pnn].ipreallocated(d.snapshot)
    }
  }

  const ns = (pnn: number) => lab!.nodes[pnn].ns
  const ours = (pnn: number) => new IptablesDriver({netns: ns(pnn)}).list(TAG)
  const eth1Addresses = async (pnn: number) => (await nsExec(ns(pnn), ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).match(/inet \S+/g) ?? []
  const metric10Routes = async (pnn: number) =>
    (await nsExec(ns(pnn), ['ip', 'route', 'show']))
      .split('\n')
      .filter((l) => l.includes('metric 10'))
      .map((l) => l.trim())

  beforeAll(async () => {
    await requireTools()
    workDir = mkdtempSync(path.join(tmpdir(), 'natgw-system-'))
    lab = await createNetLab({nodes: 3})
    const pub = lab.publicNet.replace(/\.0\/24$/, '')
    gatewayAddress = `${pub}.100`
    outsideAddress = `${pub}.250`
    nodes = lab.nodes.map((n) => ({pnn: n.index, name: `n${n.index}`, address: n.privateAddress, family: 4, capabilities: {leader: true, lmaster: true}, deleted: false}))
    const [privAddr, privBits] = lab.privateNet.split('/')
    group = {
      name: 'gw',
      publicAddress: {address: gatewayAddress, prefixLength: 24, family: 4},
      publicInterface: 'eth1',
      privateNetwork: {address: privAddr, prefixLength: Number(privBits), family: 4},
      defaultGateway: outsideAddress,
      staticRoutes: [{destination: {address: '0.0.0.0', prefixLength: 0, family: 4}}],
      nodes: nodes.map((n) => ({pnn: n.pnn, followerOnly: false})),
    }

    // The outside namespace, on the public bridge.
    outsideNs = `${lab.prefix}-out`
    await ip('netns', 'add', outsideNs)
    await ip('link', 'add', `${lab.prefix}xi`, 'type', 'veth', 'peer', 'name', `${lab.prefix}xo`)
    await ip('link', 'set', `${lab.prefix}xo`, 'netns', lab.hub)
    await ip('-n', lab.hub, 'link', 'set', `${lab.prefix}xo`, 'master', 'brpub')
    await ip('-n', lab.hub, 'link', 'set', `${lab.prefix}xo`, 'up')
    await ip('link', 'set', `${lab.prefix}xi`, 'netns', outsideNs)
    await ip('-n', outsideNs, 'link', 'set', `${lab.prefix}xi`, 'name', 'eth0')
    await ip('-n', outsideNs, 'addr', 'add', `${outsideAddress}/24`, 'dev', 'eth0')
    await ip('-n', outsideNs, 'link', 'set', 'eth0', 'up')
    await ip('-n', outsideNs, 'link', 'set', 'lo', 'up')
    await ip('-n', outsideNs, 'addr', 'add', `${SERVICE_ADDRESS}/32`, 'dev', 'lo')

    children.push(await startEchoPeer(outsideNs, SERVICE_ADDRESS, SERVICE_PORT))
    // A listener on every node: the gateway address must refuse inbound connections to it.
    for (const n of lab.nodes) children.push(await startEchoPeer(n.ns, '0.0.0.0', NODE_PORT))
    for (let pnn = 0; pnn < 3; pnn++) reconcilers.push(reconciler(pnn))
  }, 60_000)

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)))
    if (outsideNs) await ip('netns', 'del', outsideNs).catch(() => undefined)
    if (lab) await destroyNetLab(lab)
    if (workDir) rmSync(workDir, {recursive: true, force: true})
  }, 30_000)

  test('before any setup a follower cannot reach the outside', async () => {
    for (const r of reconcilers) expect((await r.startup()).failures).toEqual([])
    expect(await connectFrom(ns(1), SERVICE_ADDRESS, SERVICE_PORT)).toBe('ERR ENETUNREACH')
    // Even with a route, the outside could not answer the private network: it has no route back.
    expect(await nsExec(outsideNs!, ['ip', 'route', 'get', lab!.nodes[1].privateAddress]).catch((e: Error) => e.message)).toMatch(/unreachable/i)
  })

  test('leader setup on node 0, follower setup on 1 and 2: followers reach the outside through the leader', async () => {
    await ipreallocated(state(), [0, 1, 2])
    expect(reconcilers.map((r) => r.applied?.role)).toEqual(['leader', 'follower', 'follower'])
    expect(warnings).toEqual([])
    // Seen by the outside as the NAT gateway address: masqueraded by node 0.
    expect(await connectFrom(ns(1), SERVICE_ADDRESS, SERVICE_PORT)).toBe(`OK ${gatewayAddress}`)
    expect(await connectFrom(ns(2), SERVICE_ADDRESS, SERVICE_PORT)).toBe(`OK ${gatewayAddress}`)

    expect(await eth1Addresses(0)).toEqual([`inet ${gatewayAddress}/24`])
    expect(await metric10Routes(0)).toEqual([`default via ${outsideAddress} dev eth1 metric 10`])
    expect((await ours(0)).map((r) => `${r.table} ${r.chain}`).sort()).toEqual(['filter INPUT', 'nat POSTROUTING'])
    expect(await nsExec(ns(0), ['sysctl', '-n', 'net.ipv4.ip_forward'])).toBe('1\n')
    for (const pnn of [1, 2]) {
      expect(await eth1Addresses(pnn)).toEqual([])
      expect(await metric10Routes(pnn)).toEqual([`default via ${lab!.nodes[0].privateAddress} dev eth0 metric 10`])
      expect(await ours(pnn)).toEqual([])
    }
  })

  test('inbound connections to the gateway address are rejected; the leader stays reachable privately', async () => {
    expect(await connectFrom(lab!.client.ns, gatewayAddress, NODE_PORT)).toBe('ERR ECONNREFUSED')
    expect(await connectFrom(ns(1), lab!.nodes[0].privateAddress, NODE_PORT)).toBe(`OK ${lab!.nodes[1].privateAddress}`)
  })

  test('another ipreallocated with the same roles runs nothing', async () => {
    for (const pnn of [0, 1, 2]) {
      const d = natgwDesired(group, nodes, state(), pnn)
      if (!d.ok) throw new Error(d.message)
      const r = await reconcilers[pnn].ipreallocated(d.snapshot)
      expect(r.plan.changed).toBe(false)
      expect(r.results).toEqual([])
    }
    expect((await ours(0)).length).toBe(2)
  })

  test('kill the leader: node 1 takes over and new connections from the follower succeed', async () => {
    // Node 0 dies: its links go down and its daemon (and reconciler) is gone.
    await nsExec(ns(0), ['ip', 'link', 'set', 'eth1', 'down'])
    await nsExec(ns(0), ['ip', 'link', 'set', 'eth0', 'down'])
    const dead = state({0: ['DISCONNECTED']})
    await ipreallocated(dead, [1, 2])
    expect(reconcilers.slice(1).map((r) => r.applied?.role)).toEqual(['leader', 'follower'])
    expect(warnings).toEqual([])
    expect(await connectEventually(ns(2), SERVICE_ADDRESS, SERVICE_PORT)).toBe(`OK ${gatewayAddress}`)
    expect(await eth1Addresses(1)).toEqual([`inet ${gatewayAddress}/24`])
    expect((await ours(1)).length).toBe(2)
    expect(await metric10Routes(2)).toEqual([`default via ${lab!.nodes[1].privateAddress} dev eth0 metric 10`])
  })

  test('the old leader returns as a follower: its rules and the gateway address are gone, and it gets out through node 1', async () => {
    // Restarted daemon: a new reconciler that only knows what its state file says.
    await nsExec(ns(0), ['ip', 'link', 'set', 'eth0', 'up'])
    reconcilers[0] = reconciler(0)
    expect((await ours(0)).length).toBe(2)
    // Just restarted, node 0 is UNHEALTHY until its first monitor: node 1 keeps the gateway.
    await ipreallocated(state({0: ['UNHEALTHY']}), [0, 1, 2])
    expect(reconcilers.map((r) => r.applied?.role)).toEqual(['follower', 'leader', 'follower'])
    expect(warnings).toEqual([])

    expect(await ours(0)).toEqual([])
    const all = (await nsExec(ns(0), ['iptables', '-w', '-S'])) + (await nsExec(ns(0), ['iptables', '-w', '-t', 'nat', '-S']))
    expect(all).not.toContain('ctdbctl:natgw')
    expect(all).not.toContain('MASQUERADE')
    expect(await eth1Addresses(0)).toEqual([])
    expect(await metric10Routes(0)).toEqual([`default via ${lab!.nodes[1].privateAddress} dev eth0 metric 10`])

    await nsExec(ns(0), ['ip', 'link', 'set', 'eth1', 'up'])
    expect(await connectEventually(ns(0), SERVICE_ADDRESS, SERVICE_PORT)).toBe(`OK ${gatewayAddress}`)
    expect(await connectEventually(ns(2), SERVICE_ADDRESS, SERVICE_PORT)).toBe(`OK ${gatewayAddress}`)
  })

  test('shutdown on every node removes everything it set up', async () => {
    for (const r of reconcilers) await r.shutdown()
    for (const pnn of [0, 1, 2]) {
      expect(await ours(pnn)).toEqual([])
      expect(await eth1Addresses(pnn)).toEqual([])
      expect(await metric10Routes(pnn)).toEqual([])
    }
    expect(await connectFrom(ns(2), SERVICE_ADDRESS, SERVICE_PORT)).toBe('ERR ENETUNREACH')
  })
})
