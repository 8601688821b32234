// The tickle service and the `tickles list` command against a real nats-server (the tickles KV
// bucket), with the host's connection list given by the test (no root: no packets are sent).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Writable} from 'node:stream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {pino} from 'pino'
import {loadConfigText} from '../../src/config/index.js'
import type {ClusterConfig} from '../../src/config/model.js'
import {startNatsServers, stopNatsServers, type NatsServerHandle} from '../../src/dev/nats-servers.js'
import {formatConnection} from '../../src/net/connections.js'
import {parseSsEstablished, type EstablishedConnection} from '../../src/tickles/connections.js'
import {TickleService} from '../../src/tickles/service.js'
import {TickleStore} from '../../src/tickles/store.js'
import {requireBuilt, runCli} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'

let dir: string | undefined
let servers: NatsServerHandle[] = []
let nc: NatsConnection | undefined
const services: TickleService[] = []

beforeAll(async () => {
  requireBuilt('dist/commands/tickles/list.js')
  dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-tickles-'))
  servers = await startNatsServers({count: 1, dir})
  nc = await connect({servers: servers.map((s) => s.url)})
}, 60_000)

afterAll(async () => {
  for (const s of services) s.stop()
  await nc?.close().catch(() => undefined)
  await stopNatsServers(servers)
  if (dir) rmSync(dir, {recursive: true, force: true})
})

function config(cluster: string, tunables = 'tickleScanInterval: 200ms'): ClusterConfig {
  const yaml = `apiVersion: ctdbctl/v1
kind: Cluster
metadata: {name: ${cluster}}
spec:
  nats: {servers: [${servers[0].url}]}
  nodes: [{pnn: 0, name: n0, address: 10.9.0.1}]
  publicAddresses: [{address: 10.9.1.101/24, interfaces: [eth1]}, {address: 10.9.1.102/24, interfaces: [eth1]}]
  tunables: {${tunables}}
`
  const r = loadConfigText(yaml, 'test', {localChecks: false})
  if (!r.config) throw new Error(JSON.stringify(r.problems))
  return r.config
}

/** A service whose host has the connections of `ss` (ss text) and holds `held`; logs collected as objects. */
function service(cluster: string, options: {tunables?: string; held: string[]; ss: {text: string}; kill?: string[][]}) {
  const logs: Array<{level: number; msg: string}> = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as {level: number; msg: string})
      done()
    },
  })
  let scans = 0
  const svc = new TickleService({
    pnn: 0,
    config: config(cluster, options.tunables),
    logger: pino({level: 'debug'}, sink),
    held: () => options.held,
    scan: async (): Promise<EstablishedConnection[]> => {
      scans++
      return parseSsEstablished(options.ss.text)
    },
    kill: async (connections) => {
      if (!options.kill) throw new Error('no kill expected in this test')
      options.kill.push(connections.map(formatConnection))
      return {total: connections.length, reset: connections.length, remaining: [], rounds: 1, tickles: connections.length, elapsedMs: 0, capture: {raw: true, pcap: false}}
    },
  })
  services.push(svc)
  svc.start(nc!)
  return {svc, logs, scans: () => scans}
}

const line = (local: string, peer: string) => `0 0 ${local} ${peer}\n`

test('the holder stores the list of each held address when it changes, and only then', async () => {
  const ss = {text: line('10.9.1.101:445', '10.9.1.200:5000') + line('10.9.1.103:22', '10.9.1.200:5001')}
  const {scans} = service('c1', {held: ['10.9.1.101'], ss})
  const store = await TickleStore.open(nc!, 'c1', 1)
  const first = await waitFor('the list to be stored', () => store.get('10.9.1.101'), 10_000, 100)
  expect(first).toMatchObject({v: 1, address: '10.9.1.101', pnn: 0, connections: [{client: '10.9.1.200:5000', public: '10.9.1.101:445'}]})
  expect(await store.get('10.9.1.103')).toBeUndefined() // not a held address

  // More scans of the same state write nothing (the stored time stays).
  const n = scans()
  await waitFor('three more scans', () => (scans() >= n + 3 ? true : undefined), 10_000, 50)
  expect((await store.get('10.9.1.101'))!.time).toBe(first!.time)

  ss.text += line('10.9.1.101:2049', '10.9.1.201:700')
  const second = await waitFor('the changed list to be stored', async () => {
    const r = await store.get('10.9.1.101')
    return r && r.connections.length === 2 ? r : undefined
  }, 10_000, 100)
  expect(second.connections).toEqual([
    {client: '10.9.1.201:700', public: '10.9.1.101:2049'},
    {client: '10.9.1.200:5000', public: '10.9.1.101:445'},
  ])

  const cli = await runCli(['tickles', 'list', '10.9.1.101', '--nats', servers[0].url, '--cluster', 'c1'])
  expect(cli.code).toBe(0)
  expect(cli.stdout).toBe('Connections for IP: 10.9.1.101\nNum connections: 2\nSRC: 10.9.1.201:700   DST: 10.9.1.101:2049\nSRC: 10.9.1.200:5000   DST: 10.9.1.101:445\n')
})

test('before a release the final list is stored at once (a fresh scan), then the connections are killed', async () => {
  const ss = {text: ''}
  const kills: string[][] = []
  const {svc, scans} = service('c2', {tunables: 'tickleScanInterval: 1h', held: ['10.9.1.101'], ss, kill: kills})
  const store = await TickleStore.open(nc!, 'c2', 1)
  await svc.ready
  ss.text = line('10.9.1.101:445', '10.9.1.200:5000') + line('10.9.1.101:2049', '10.9.1.200:700')
  await svc.beforeRelease({address: '10.9.1.101', prefixLength: 24, family: 4, interface: 'eth1'})
  expect(scans()).toBe(1)
  expect((await store.get('10.9.1.101'))!.connections).toEqual([
    {client: '10.9.1.200:700', public: '10.9.1.101:2049'},
    {client: '10.9.1.200:5000', public: '10.9.1.101:445'},
  ])
  // killtcp lines (impersonated end first): port 445 one way, the others both ways.
  expect(kills).toEqual([['10.9.1.200:700 10.9.1.101:2049', '10.9.1.101:2049 10.9.1.200:700', '10.9.1.200:5000 10.9.1.101:445']])
})

test('a malformed stored list is ignored with a warning: no crash, no tickles, and the CLI says so', async () => {
  const ss = {text: ''}
  const {svc, logs} = service('c3', {held: [], ss})
  const store = await TickleStore.open(nc!, 'c3', 1)
  await store.putRaw('10.9.1.102', '{"v":1,"address":')
  await svc.ready
  await svc.prefetch(['10.9.1.102'])
  await svc.onAnnounce({address: '10.9.1.102', prefixLength: 24, family: 4, interface: 'eth1', round: 0, after: 'take'})
  expect(logs.some((l) => l.level === 40 && /ignoring malformed tickle list 10\.9\.1\.102: not JSON/.test(l.msg))).toBe(true)
  expect(logs.some((l) => /tickle ACK/.test(l.msg))).toBe(false)

  const cli = await runCli(['tickles', 'list', '10.9.1.102', '--json', '--nats', servers[0].url, '--cluster', 'c3'])
  expect(cli.code).toBe(0)
  expect(cli.stderr).toMatch(/ignoring malformed tickle list 10\.9\.1\.102: not JSON/)
  expect(JSON.parse(cli.stdout)).toEqual({address: '10.9.1.102', connections: []})
})

test('with tunables.tickles false nothing is stored or read', async () => {
  const ss = {text: line('10.9.1.101:445', '10.9.1.200:5000')}
  const {scans, svc} = service('c4', {tunables: 'tickleScanInterval: 200ms, tickles: false', held: ['10.9.1.101'], ss})
  await new Promise((r) => setTimeout(r, 1000))
  expect(scans()).toBe(0)
  await svc.beforeRelease({address: '10.9.1.101', prefixLength: 24, family: 4, interface: 'eth1'})
  expect(scans()).toBe(0)
  const store = await TickleStore.open(nc!, 'c4', 1)
  expect(await store.get('10.9.1.101')).toBeUndefined()
})

test('a list larger than a NATS message is stored truncated, with a warning', async () => {
  let text = ''
  for (let i = 0; i < 40_000; i++) text += line('10.9.1.101:445', `10.9.${2 + (i % 200)}.${1 + (i % 250)}:${10000 + Math.floor(i / 200)}`)
  const {logs} = service('c5', {held: ['10.9.1.101'], ss: {text}})
  const store = await TickleStore.open(nc!, 'c5', 1)
  const stored = await waitFor('the list to be stored', () => store.get('10.9.1.101'), 20_000, 200)
  expect(stored.connections.length).toBeGreaterThan(10_000)
  expect(stored.connections.length).toBeLessThan(40_000)
  expect(logs.some((l) => l.level === 40 && /too large for one NATS message/.test(l.msg))).toBe(true)
}, 30_000)

test('bad input to `tickles list` is a usage error', async () => {
  const cli = await runCli(['tickles', 'list', '10.9.1.999', '--nats', servers[0].url, '--cluster', 'c1'])
  expect(cli.code).toBe(2)
  expect(cli.stderr).toMatch(/invalid IP address '10\.9\.1\.999'/)
})

test('`tickles list` on a cluster without the bucket: no connections, and it does not create the bucket', async () => {
  const cli = await runCli(['tickles', 'list', '10.9.1.101', '--nats', servers[0].url, '--cluster', 'nobucket'])
  expect(cli.stderr).toBe('')
  expect(cli.code).toBe(0)
  expect(cli.stdout).toBe('Connections for IP: 10.9.1.101\nNum connections: 0\n')
  expect(await TickleStore.find(nc!, 'nobucket')).toBeUndefined()
})

test('when the bucket cannot be read at takeover, the new holder uses the list it saw last', async () => {
  const ownDir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-tickles-own-'))
  const own = await startNatsServers({count: 1, dir: ownDir})
  const ownNc = await connect({servers: own[0].url})
  const logs: Array<{level: number; msg: string}> = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as {level: number; msg: string})
      done()
    },
  })
  const svc = new TickleService({pnn: 0, config: config('c6'), logger: pino({level: 'debug'}, sink), held: () => [], scan: async () => []})
  services.push(svc)
  try {
    svc.start(ownNc)
    await svc.ready
    const store = await TickleStore.open(ownNc, 'c6', 1)
    await store.put({v: 1, address: '10.9.1.102', pnn: 1, time: new Date().toISOString(), connections: [{client: '10.9.2.1:50000', public: '10.9.1.102:445'}]})
    // The node follows the bucket: the list reaches its mirror (an internal, waited for here only).
    await waitFor('the list to be mirrored', () => ((svc as unknown as {mirrored: Map<string, unknown>}).mirrored.size === 1 ? true : undefined), 10_000)
    await stopNatsServers(own, 'SIGKILL')
    await svc.prefetch(['10.9.1.102'])
    expect(logs.some((l) => l.level === 40 && /cannot read the tickle list of 10\.9\.1\.102: using the one this node saw last/.test(l.msg))).toBe(true)
  } finally {
    svc.stop()
    await ownNc.close().catch(() => undefined)
    await stopNatsServers(own).catch(() => undefined)
    rmSync(ownDir, {recursive: true, force: true})
  }
}, 60_000)
