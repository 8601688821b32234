// The IP reconciler on real interfaces (issue 7, item 2): a 2-node network-namespace lab, each
// node with two public interfaces (eth1 from the lab, eth2 added here) on the public bridge,
// reconcilers running in this process with the iproute2 driver in `netns` mode, a TCP service in
// each node namespace and a client namespace that connects to the public addresses and captures
// the announcements with tcpdump. Needs root, iproute2, arping, tcpdump and ipv6toolkit (na6):
// missing ones fail the suite with the package to install.
import {execFile, type ChildProcess} from 'node:child_process'
import {accessSync, constants} from 'node:fs'
import {delimiter, join} from 'node:path'
import {promisify} from 'node:util'
import type {PublicAddress} from '../../src/config/model.js'
import {createNetLab, destroyNetLab, nsExec, nsSpawn, type NetLab} from '../../src/dev/netlab.js'
import {Iproute2Driver, parseIpAddrJson} from '../../src/reconciler/drivers/iproute2-driver.js'
import {IpReconciler, type IpEvent, type IpLogger} from '../../src/reconciler/ip/reconciler.js'
import {waitFor} from '../helpers/wait.js'

const run = promisify(execFile)
const PORT = 7400
const REQUIRED: [string, string][] = [
  ['ip', 'iproute2'],
  ['arping', 'arping'],
  ['tcpdump', 'tcpdump'],
  ['na6', 'ipv6toolkit'],
]

function onPath(program: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']
  return dirs.some((d) => {
    try {
      accessSync(join(d, program), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

function checkRequirements(): void {
  if (process.getuid?.() !== 0) throw new Error('the IP reconciler system test needs root (network namespaces, addresses): run it as root')
  const missing = REQUIRED.filter(([p]) => !onPath(p))
  if (missing.length) throw new Error(`the IP reconciler system test needs ${missing.map(([p, pkg]) => `"${p}" (Debian package ${pkg})`).join(', ')}: run scripts/system-deps.sh as root`)
}

let lab: NetLab | undefined
let subnet = 0
let A = '' // public, [eth1, eth2]
let B = '' // public, [eth1, eth2]
let C = '' // public, [eth1] only
let V6 = '' // public IPv6, [eth1]
let publicAddresses: PublicAddress[] = []
const reconcilers: IpReconciler[] = []
const events: string[][] = [[], []]
const servers: ChildProcess[] = []
const extraHostLinks: string[] = []
/** Warnings and errors of the reconcilers, printed after a test that had any. */
const logged: string[] = []
const collect = (node: number): IpLogger => {
  const at = (level: string) => (obj: unknown, msg?: string) => void logged.push(`n${node} ${level}: ${msg ?? JSON.stringify(obj)}`)
  return {debug: () => undefined, info: () => undefined, warn: at('warn'), error: at('error')} as unknown as IpLogger
}

const ns = (i: number) => lab!.nodes[i].ns
const hubVeth = (i: number, iface: 'eth1' | 'eth2') => (iface === 'eth1' ? `${lab!.prefix}${i}uo` : `${lab!.prefix}${i}v2o`)

async function addrsOf(nsName: string, iface?: string) {
  return parseIpAddrJson(await nsExec(nsName, ['ip', '-j', 'addr', 'show', ...(iface ? ['dev', iface] : [])]))
}
async function whereIs(node: number, address: string): Promise<string[]> {
  return (await addrsOf(ns(node))).filter((a) => a.address === address).map((a) => a.interface)
}
async function macOf(nsName: string, iface: string): Promise<string> {
  return (JSON.parse(await nsExec(nsName, ['ip', '-j', 'link', 'show', 'dev', iface])) as {address: string}[])[0].address
}
async function clientNeighbour(address: string): Promise<string | undefined> {
  const entries = JSON.parse(await nsExec(lab!.client.ns, ['ip', '-j', 'neigh', 'show', address, 'dev', 'eth0'])) as {lladdr?: string}[]
  return entries[0]?.lladdr
}

const CONNECT = `
const s = require('net').connect({host: process.argv[1], port: ${PORT}, timeout: 1500})
let out = ''
s.on('data', (d) => (out += d)).on('end', () => { process.stdout.write(out); process.exit(0) })
s.on('timeout', () => { console.error('timeout'); process.exit(1) }).on('error', (e) => { console.error(e.message); process.exit(1) })`

/** Which node's TCP service answers on `address` from the client namespace, or undefined. */
async function answerFrom(address: string): Promise<string | undefined> {
  try {
    return (await nsExec(lab!.client.ns, [process.execPath, '-e', CONNECT, address])).trim()
  } catch {
    return undefined
  }
}

/** tcpdump in the client namespace, line-buffered, with link-level headers and epoch times. */
async function capture(filter: string[]): Promise<{lines: string[]; stop: () => Promise<void>}> {
  const lines: string[] = []
  const child = nsSpawn(lab!.client.ns, ['tcpdump', '-i', 'eth0', '-n', '-e', '-l', '-tt', ...filter], {stdio: ['ignore', 'pipe', 'pipe']})
  let buffered = ''
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop()!
    lines.push(...parts.filter(Boolean))
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  await waitFor('tcpdump to listen', () => (/listening on/.test(stderr) ? true : child.exitCode !== null ? Promise.reject(new Error(`tcpdump exited: ${stderr}`)) : undefined), 10_000, 20)
  return {
    lines,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

async function settle(): Promise<void> {
  for (const r of reconcilers) await r.stop()
  for (let i = 0; i < 2; i++) {
    await nsExec(ns(i), ['ip', 'link', 'set', 'eth1', 'up'])
    await nsExec(ns(i), ['ip', 'link', 'set', 'eth2', 'up'])
    await run('ip', ['-n', lab!.hub, 'link', 'set', hubVeth(i, 'eth1'), 'up'])
    await run('ip', ['-n', lab!.hub, 'link', 'set', hubVeth(i, 'eth2'), 'up'])
  }
  for (const r of reconcilers) await r.releaseAll()
  for (const e of events) e.length = 0
}

beforeAll(async () => {
  checkRequirements()
  lab = await createNetLab({nodes: 2})
  subnet = Number(lab.publicNet.split('.')[1])
  A = `10.${subnet}.1.101`
  B = `10.${subnet}.1.102`
  C = `10.${subnet}.1.103`
  V6 = `fd00:${subnet}::101`
  publicAddresses = [
    {address: A, prefixLength: 24, family: 4, interfaces: ['eth1', 'eth2']},
    {address: B, prefixLength: 24, family: 4, interfaces: ['eth1', 'eth2']},
    {address: C, prefixLength: 24, family: 4, interfaces: ['eth1']},
    {address: V6, prefixLength: 64, family: 6, interfaces: ['eth1']},
  ]
  // A second public interface per node: a veth from the node to the public bridge.
  for (let i = 0; i < 2; i++) {
    const inner = `${lab.prefix}${i}v2i`
    extraHostLinks.push(inner)
    await run('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', hubVeth(i, 'eth2')])
    await run('ip', ['link', 'set', hubVeth(i, 'eth2'), 'netns', lab.hub])
    await run('ip', ['-n', lab.hub, 'link', 'set', hubVeth(i, 'eth2'), 'master', 'brpub'])
    await run('ip', ['-n', lab.hub, 'link', 'set', hubVeth(i, 'eth2'), 'up'])
    await run('ip', ['link', 'set', inner, 'netns', ns(i)])
    await nsExec(ns(i), ['ip', 'link', 'set', inner, 'name', 'eth2'])
    await nsExec(ns(i), ['ip', 'link', 'set', 'eth2', 'up'])
    // A TCP service answering with the node's name, on every address (v4 and v6).
    const server = nsSpawn(ns(i), [process.execPath, '-e', `require('net').createServer((s) => s.end('n${i}')).listen(${PORT}, '::')`], {stdio: 'ignore'})
    servers.push(server)
    const driver = new Iproute2Driver({netns: ns(i)})
    reconcilers.push(
      new IpReconciler({
        driver,
        publicAddresses,
        intervalMs: 200,
        logger: collect(i),
        onTaken: (e: IpEvent) => void events[i].push(`taken ${e.address} ${e.interface}`),
        onReleased: (e: IpEvent) => void events[i].push(`released ${e.address} ${e.interface}`),
        onMoved: (e) => void events[i].push(`moved ${e.address} ${e.from}->${e.interface}`),
      }),
    )
  }
  await nsExec(lab.client.ns, ['ip', 'addr', 'add', `fd00:${subnet}::200/64`, 'dev', 'eth0', 'nodad'])
  await waitFor('the TCP services', async () => ((await nsExec(ns(1), ['ss', '-Htln', `sport = :${PORT}`])).includes(`${PORT}`) ? true : undefined), 10_000)
}, 60_000)

afterAll(async () => {
  for (const r of reconcilers) await r.stop()
  for (const s of servers) if (s.exitCode === null) s.kill('SIGTERM')
  if (lab) await destroyNetLab(lab)
  for (const l of extraHostLinks) await run('ip', ['link', 'del', l]).catch(() => undefined)
}, 30_000)

beforeEach(async () => {
  await settle()
  logged.length = 0
}, 30_000)

afterEach(() => {
  if (logged.length) console.warn(logged.join('\n'))
})

test('take and release: the address appears on the chosen interface, the client reaches it, a second pass does nothing', async () => {
  const r0 = reconcilers[0]
  r0.setDesired([A])
  const res = await r0.pass()
  expect(res.ok).toBe(true)
  expect(res.taken).toEqual([A])
  expect(res.held).toEqual([{address: A, prefixLength: 24, family: 4, interface: 'eth1', linkUp: true}])
  expect(await whereIs(0, A)).toEqual(['eth1'])
  expect(events[0]).toEqual([`taken ${A} eth1`])
  expect(await answerFrom(A)).toBe('n0')

  const again = await r0.pass()
  expect(again.actions).toEqual([])

  r0.setDesired([])
  const released = await r0.pass()
  expect(released.released).toEqual([A])
  expect(await whereIs(0, A)).toEqual([])
  expect(events[0]).toEqual([`taken ${A} eth1`, `released ${A} eth1`])
  expect(await answerFrom(A)).toBeUndefined()
})

test('CTDB interface choice: the second address goes to the interface with fewer addresses; an address with one interface stays on it', async () => {
  const r0 = reconcilers[0]
  r0.setDesired([A, B, C])
  const res = await r0.pass()
  expect(res.held.map((h) => `${h.address} ${h.interface}`)).toEqual([`${A} eth1`, `${B} eth2`, `${C} eth1`])
  expect(res.interfaces).toEqual([
    {name: 'eth1', up: true, present: true, references: 2},
    {name: 'eth2', up: true, present: true, references: 1},
  ])
  for (const address of [A, B, C]) expect(await answerFrom(address)).toBe('n0')
})

test('releasing a primary address keeps the other addresses of the interface (the kernel drops secondaries; the driver puts them back)', async () => {
  const r1 = reconcilers[1]
  const nodeAddress = `10.${subnet}.1.50`
  try {
    r1.setDesired([C])
    await r1.pass()
    await nsExec(ns(1), ['ip', 'addr', 'add', `${nodeAddress}/24`, 'dev', 'eth1'])
    const before = (await addrsOf(ns(1), 'eth1')).filter((a) => a.family === 4)
    expect(before.map((a) => `${a.address}${a.secondary ? ' secondary' : ''}`)).toEqual([C, `${nodeAddress} secondary`])
    r1.setDesired([])
    const res = await r1.pass()
    expect(res.released).toEqual([C])
    expect((await addrsOf(ns(1), 'eth1')).filter((a) => a.family === 4).map((a) => a.address)).toEqual([nodeAddress])
    expect((await r1.pass()).actions).toEqual([])
  } finally {
    await nsExec(ns(1), ['ip', 'addr', 'del', `${nodeAddress}/24`, 'dev', 'eth1']).catch(() => undefined)
  }
})

test('drift repair in the loop: removed by hand comes back, added by hand is removed, other addresses are left alone', async () => {
  const r0 = reconcilers[0]
  r0.setDesired([A])
  await r0.pass()
  const other = `10.${subnet}.1.60`
  r0.start()
  try {
    await nsExec(ns(0), ['ip', 'addr', 'del', `${A}/24`, 'dev', 'eth1'])
    const t0 = Date.now()
    await waitFor(`${A} back on node 0`, async () => ((await whereIs(0, A)).length === 1 ? true : undefined), 3000, 20)
    expect(Date.now() - t0).toBeLessThan(1500)

    await nsExec(ns(0), ['ip', 'addr', 'add', `${B}/24`, 'dev', 'eth2'])
    await nsExec(ns(0), ['ip', 'addr', 'add', `${other}/24`, 'dev', 'eth2'])
    await waitFor(`${B} removed from node 0`, async () => ((await whereIs(0, B)).length === 0 ? true : undefined), 3000, 20)
    await new Promise((r) => setTimeout(r, 500))
    expect(await whereIs(0, other)).toEqual(['eth2'])
    expect(await whereIs(0, A)).toEqual(['eth1'])
    expect(events[0]).toEqual([`taken ${A} eth1`, `taken ${A} eth1`, `released ${B} eth2`])
  } finally {
    await r0.stop()
    await nsExec(ns(0), ['ip', 'addr', 'del', `${other}/24`, 'dev', 'eth2']).catch(() => undefined)
  }
})

test('interface down moves the address to the other interface; the client follows via gratuitous ARP; carrier loss too', async () => {
  const r0 = reconcilers[0]
  r0.setDesired([A])
  await r0.pass()
  expect(await answerFrom(A)).toBe('n0')
  const [mac1, mac2] = [await macOf(ns(0), 'eth1'), await macOf(ns(0), 'eth2')]
  expect(await clientNeighbour(A)).toBe(mac1)

  await nsExec(ns(0), ['ip', 'link', 'set', 'eth1', 'down'])
  const moved = await r0.pass()
  expect(moved.moved).toEqual([A])
  expect(moved.held).toEqual([{address: A, prefixLength: 24, family: 4, interface: 'eth2', linkUp: true}])
  expect(moved.interfaces.find((i) => i.name === 'eth1')).toEqual({name: 'eth1', up: false, present: true, references: 0})
  expect(await whereIs(0, A)).toEqual(['eth2'])
  // The client learns the new MAC from the announcement alone.
  await waitFor('client neighbour entry to follow', async () => ((await clientNeighbour(A)) === mac2 ? true : undefined), 3000, 20)
  expect(await answerFrom(A)).toBe('n0')

  // eth1 back up: one address, so no rebalance (1 is not more than 0 + 1).
  await nsExec(ns(0), ['ip', 'link', 'set', 'eth1', 'up'])
  expect((await r0.pass()).actions).toEqual([])

  // Carrier loss on eth2 (the switch side goes down): back to eth1.
  await run('ip', ['-n', lab!.hub, 'link', 'set', hubVeth(0, 'eth2'), 'down'])
  await waitFor('eth2 to lose carrier', async () => ((await r0.pass()).moved.includes(A) ? true : undefined), 3000, 50)
  expect(await whereIs(0, A)).toEqual(['eth1'])
  await waitFor('client neighbour entry back', async () => ((await clientNeighbour(A)) === mac1 ? true : undefined), 3000, 20)
  expect(await answerFrom(A)).toBe('n0')
  expect(events[0]).toEqual([`taken ${A} eth1`, `moved ${A} eth1->eth2`, `moved ${A} eth2->eth1`])
})

test('every interface down: reported unavailable, nothing added', async () => {
  const r0 = reconcilers[0]
  await nsExec(ns(0), ['ip', 'link', 'set', 'eth1', 'down'])
  r0.setDesired([C])
  const res = await r0.pass()
  expect(res.unavailable).toEqual([{address: C, interfaces: ['eth1'], reason: 'all-interfaces-down'}])
  expect(res.actions).toEqual([])
  expect(await whereIs(0, C)).toEqual([])
  expect(logged).toEqual([`n0 warn: cannot host ${C}: every interface of it (eth1) is down`])
  logged.length = 0
})

test('failover between nodes: three rounds of gratuitous ARP (request and reply) about 1.1 s apart update the client', async () => {
  const [r0, r1] = reconcilers
  r0.setDesired([A])
  await r0.pass()
  expect(await answerFrom(A)).toBe('n0')
  const mac0 = await macOf(ns(0), 'eth1')
  const mac1 = await macOf(ns(1), 'eth1')
  expect(await clientNeighbour(A)).toBe(mac0)

  const cap = await capture(['arp', 'and', 'ether', 'src', mac1])
  try {
    r0.setDesired([])
    await r0.pass()
    r1.setDesired([A])
    const res = await r1.pass()
    expect(res.taken).toEqual([A])
    // Before the client sends anything, its neighbour entry points at node 1.
    await waitFor('client neighbour entry to move to node 1', async () => ((await clientNeighbour(A)) === mac1 ? true : undefined), 2000, 20)
    await waitFor('six announcement packets', () => (cap.lines.length >= 6 ? true : undefined), 6000, 50)
    await new Promise((r) => setTimeout(r, 300))
  } finally {
    await cap.stop()
  }
  const garp = cap.lines.filter((l) => l.includes(A))
  expect(garp).toHaveLength(6)
  expect(garp.filter((l) => l.includes(`Request who-has ${A}`) && l.includes(`tell ${A}`))).toHaveLength(3)
  expect(garp.filter((l) => l.includes(`Reply ${A} is-at ${mac1}`))).toHaveLength(3)
  const times = garp.filter((l) => l.includes('Request')).map((l) => Number(l.split(' ')[0]))
  for (let i = 1; i < times.length; i++) {
    expect(times[i] - times[i - 1]).toBeGreaterThan(0.9)
    expect(times[i] - times[i - 1]).toBeLessThan(1.6)
  }
  expect(await answerFrom(A)).toBe('n1')
})

test('IPv6: the address passes duplicate address detection, is announced by unsolicited neighbour advertisements, and answers', async () => {
  const r1 = reconcilers[1]
  const cap = await capture(['icmp6', 'and', 'ip6[40] == 136'])
  try {
    r1.setDesired([V6])
    const res = await r1.pass()
    expect(res.taken).toEqual([V6])
    const onHost = (await addrsOf(ns(1), 'eth1')).find((a) => a.address === V6)
    expect(onHost).toMatchObject({prefixLength: 64, family: 6})
    expect(onHost!.tentative).toBeUndefined()
    await waitFor('three neighbour advertisements', () => (cap.lines.filter((l) => l.includes(`tgt is ${V6}`)).length >= 3 ? true : undefined), 6000, 50)
  } finally {
    await cap.stop()
  }
  const na = cap.lines.filter((l) => l.includes(`${V6} > ff02::1`) && l.includes(`tgt is ${V6}`))
  expect(na.length).toBeGreaterThanOrEqual(3)
  expect(await answerFrom(V6)).toBe('n1')
})
