// Messaging between clients on different nodes: real nats-servers and daemons (startTestCluster),
// clients on each daemon's Unix socket.
import {existsSync} from 'node:fs'
import {connect as netConnect} from 'node:net'
import {connect as natsConnect} from '@nats-io/transport-node'
import {join} from 'node:path'
import {CtdbClient, SRVID_ALL, type Message} from '../../src/client/ctdb-client.js'
import {targetsOf} from '../../src/messaging/service.js'
import {parseDestination, parseSrvid} from '../../src/messaging/srvid.js'
import {requireBuilt, runCli} from '../helpers/cli.js'
import {startTestCluster, type TestCluster} from '../helpers/sandbox.js'
import {waitFor} from '../helpers/wait.js'

describe('destinations and srvids (pure)', () => {
  const nodes = [
    {pnn: 0, flags: []},
    {pnn: 1, flags: ['BANNED' as const]},
    {pnn: 2, flags: ['DISCONNECTED' as const, 'UNHEALTHY' as const]},
    {pnn: 3, flags: ['DISCONNECTED' as const, 'DELETED' as const]},
  ]
  test('broadcasts name the nodes CTDB sends to', () => {
    expect(targetsOf('current', 1, nodes)).toEqual([1])
    expect(targetsOf('all', 0, nodes)).toEqual([0, 1, 2])
    expect(targetsOf('active', 0, nodes)).toEqual([0])
    expect(targetsOf('connected', 0, nodes)).toEqual([0, 1])
    expect(targetsOf(2, 0, nodes)).toEqual([2])
    expect(targetsOf(3, 0, nodes)).toMatch(/node 3 is not in the cluster/)
  })
  test('destinations and srvids parse like ctdb', () => {
    expect(parseDestination('0xF0000002')).toBe('all')
    expect(parseDestination(0xf0000001)).toBe('current')
    expect(parseDestination('2')).toBe(2)
    expect(parseDestination('two')).toBeUndefined()
    expect(parseSrvid('0xFFFFFFFFFFFFFFFF')).toBe(SRVID_ALL)
    expect(parseSrvid('18446744073709551616')).toBeUndefined()
    expect(parseSrvid(-1)).toBeUndefined()
  })
})

describe('messaging across nodes', () => {
  let tc: TestCluster
  const clients: CtdbClient[] = []
  const socketOf = (pnn: number) => join(tc.sandbox.daemons[pnn].dataDir, 'ctdbd.socket')
  const client = async (pnn: number) => {
    const c = await CtdbClient.connect(socketOf(pnn))
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    requireBuilt('dist/daemon/client-socket/server.js')
    tc = await startTestCluster(2, '')
    await waitFor('both client sockets', () => ([0, 1].every((p) => existsSync(socketOf(p))) ? true : undefined), 20_000)
  }, 90_000)

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()))
    await tc?.down()
  }, 30_000)

  test('10,000 messages from a client on n1 reach a client on n0 complete and in order', async () => {
    const [receiver, sender] = [await client(0), await client(1)]
    expect([receiver.pnn, sender.pnn]).toEqual([0, 1])
    const got: Message[] = []
    await receiver.register(0xae00000000000001n, (m) => got.push(m))
    const sends: Promise<number[]>[] = []
    for (let i = 0; i < 10_000; i++) sends.push(sender.send(0, 0xae00000000000001n, `m${i}`))
    expect(new Set((await Promise.all(sends)).map((t) => t.join()))).toEqual(new Set(['0']))
    await waitFor('10,000 messages', () => (got.length >= 10_000 ? true : undefined), 60_000)
    await new Promise((r) => setTimeout(r, 200))
    expect(got).toHaveLength(10_000)
    const outOfOrder = got.findIndex((m, i) => m.data.toString() !== `m${i}`)
    expect(outOfOrder).toBe(-1)
    expect(got.every((m) => m.from === 1 && m.srvid === 0xae00000000000001n)).toBe(true)
  }, 90_000)

  test('a broadcast reaches every registration on every node, SRVID_ALL included; unregistered srvids are dropped', async () => {
    const [a, b, all] = [await client(0), await client(1), await client(1)]
    const seen: string[] = []
    await a.register(77, (m) => seen.push(`a:${m.data}`))
    await b.register(77, (m) => seen.push(`b:${m.data}`))
    await all.register(SRVID_ALL, (m) => seen.push(`all:${m.srvid}:${m.data}`))
    expect(await a.checkSrvid(77)).toBe(true)
    expect(await a.checkSrvid(78)).toBe(false)
    expect((await a.broadcast(77, 'hi')).sort()).toEqual([0, 1])
    await a.send(1, 78, 'nobody-but-all')
    await a.send('current', 78, 'dropped')
    await b.deregister(77)
    await a.send(1, 77, 'after-deregister')
    await waitFor('deliveries', () => (seen.length >= 5 ? true : undefined), 10_000)
    await new Promise((r) => setTimeout(r, 300))
    expect(seen.sort()).toEqual(['a:hi', 'all:77:after-deregister', 'all:77:hi', 'all:78:nobody-but-all', 'b:hi'])
    await expect(a.send(9, 77, 'x')).rejects.toThrow(/node 9 is not in the cluster/)
  }, 30_000)

  test('ctdbctl message listen on n0 prints what ctdbctl message send on n1 sends', async () => {
    const watcher = await client(0)
    const listen = runCli(['message', 'listen', '0xAE00000000000002', '--count', '2', '--timeout', '30', '--socket', socketOf(0)])
    await waitFor('the listener to register', async () => ((await watcher.checkSrvid('0xAE00000000000002')) ? true : undefined), 20_000, 100)
    const env = {CTDBCTL_SOCKET: socketOf(1)}
    expect(await runCli(['message', 'send', '0', '0xAE00000000000002', 'hello'], {env})).toMatchObject({code: 0, stdout: 'Sent to node 0\n'})
    expect(await runCli(['message', 'send', 'all', '0xAE00000000000002', '--hex', '0001'], {env})).toMatchObject({code: 0, stdout: 'Sent to nodes 0, 1\n'})
    expect(await runCli(['message', 'send', 'moon', '1'], {env})).toMatchObject({code: 2, stderr: expect.stringMatching(/destination "moon" is not a pnn/)})
    const r = await listen
    expect(r.stdout).toBe('from 1 srvid 0xAE00000000000002: hello\nfrom 1 srvid 0xAE00000000000002: \\00\\01\n')
    expect(r.code).toBe(0)
  }, 60_000)

  test('junk on the message subject and on the socket does not disturb the daemon', async () => {
    const nc = await natsConnect({servers: tc.sandbox.nats[0].url})
    nc.publish(`ctdbctl.${tc.sandbox.cluster}.msg.0`, new Uint8Array([1, 2, 3]))
    await nc.flush()
    await nc.close()
    const junk = netConnect(socketOf(0))
    await new Promise((r) => junk.once('connect', r))
    junk.resume()
    junk.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1]))
    await new Promise((r) => junk.once('close', r))
    const [a, b] = [await client(0), await client(1)]
    const got: string[] = []
    await a.register(5, (m) => got.push(m.data.toString()))
    await b.send(0, 5, 'still here')
    await waitFor('the message', () => (got.length === 1 ? true : undefined), 10_000)
    expect(got).toEqual(['still here'])
    expect(() => process.kill(tc.sandbox.daemons[0].pid, 0)).not.toThrow()
  }, 30_000)

  test('a closed client loses its registrations', async () => {
    const [a, watcher] = [await client(0), await client(0)]
    await a.register(4242, () => undefined)
    expect(await watcher.checkSrvid(4242)).toBe(true)
    await a.close()
    await waitFor('the registration to go', async () => ((await watcher.checkSrvid(4242)) ? undefined : true), 5000)
  }, 30_000)
})
