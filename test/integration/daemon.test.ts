// Real nats-server processes and real daemon processes on loopback (issue 5 acceptance).
import {readFileSync} from 'node:fs'
import {Ajv2020} from 'ajv/dist/2020.js'
import {ClusterClient} from '../../src/client/cluster-client.js'
import type {ClusterState} from '../../src/cluster/state.js'
import {startDaemon} from '../../src/dev/sandbox.js'
import {stopProcess} from '../../src/dev/nats-servers.js'
import {runCli} from '../helpers/cli.js'
import {flagsOf, startTestCluster, type TestCluster} from '../helpers/sandbox.js'
import {waitFor} from '../helpers/wait.js'

/** keepaliveInterval 250ms × keepaliveLimit 4 (the defaults) plus one interval of slack. */
const DETECT_BOUND_MS = 1250 + 250
const LEASE_TTL_MS = 3000

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, {env})

const leaderOf = (views: ClusterState[]) => (views.every((v) => v.leader === views[0].leader) ? views[0].leader : undefined)

const NATGW = '  natgw:\n    - {name: ng, publicAddress: 192.0.2.50/24, publicInterface: eth1, privateNetwork: 127.0.0.0/8, nodes: [n0, n1, n2]}\n'

describe.each([
  ['none', `  clusterLock: {type: none}\n${NATGW}`],
  ['nats-kv', NATGW],
])('daemon cluster with clusterLock %s', (lockType, extraSpec) => {
  let tc: TestCluster

  beforeAll(async () => {
    tc = await startTestCluster(3, extraSpec)
  }, 60_000)

  afterAll(async () => {
    await tc?.down()
  }, 30_000)

  const env = () => ({CTDBCTL_CONFIG: tc.sandbox.configFile})

  test('three nodes report OK with exactly one leader, and status --json validates', async () => {
    const views = await tc.views()
    const leader = leaderOf(views)
    expect(leader).toBeGreaterThanOrEqual(0)
    for (const v of views) expect(v.nodes.map((n) => n.flags)).toEqual([[], [], []])
    const heldBy = views.filter((v) => v.leader === v.thisNode)
    expect(heldBy).toHaveLength(1)

    const r = await cli(['status', '--json'], env())
    expect(r.code).toBe(0)
    const schema = JSON.parse(readFileSync('schemas/state.schema.json', 'utf8'))
    const validate = new Ajv2020({allErrors: true}).compile(schema)
    const state = JSON.parse(r.stdout)
    expect(validate.errors ?? []).toEqual([])
    expect(validate(state)).toBe(true)
    expect(state.leader).toBe(leader)

    const human = await cli(['status'], env())
    expect(human.stdout).toMatch(/^Number of nodes:3\npnn:0 127\.0\.0\.1 {8}OK/)
    expect(human.stdout).toContain(`Leader:${leader}\n`)
    expect((await cli(['leader'], env())).stdout).toBe(`${leader}\n`)
  })

  test('natgw commands query the live cluster', async () => {
    const r = await cli(['natgw', 'leader'], env())
    expect(r).toMatchObject({code: 0, stdout: '0 127.0.0.1\n'})
    const status = await cli(['natgw', 'status'], env())
    expect(status.code).toBe(0)
    expect(status.stdout.split('\n').filter(Boolean)).toHaveLength(3)
  })

  test('ban, unban, disable, enable, stop and continue change flags on every node', async () => {
    const target = 2
    const expectEverywhere = async (flag: string, present: boolean) => {
      const views = await tc.views()
      for (const v of views) expect(flagsOf(v, target).includes(flag)).toBe(present)
    }
    for (const [op, flag, present] of [['disable', 'DISABLED', true], ['enable', 'DISABLED', false], ['stop', 'STOPPED', true], ['continue', 'STOPPED', false]] as const) {
      const r = await cli(['node', op, String(target)], env())
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      await waitFor(`${flag} ${present ? 'set' : 'cleared'} everywhere`, async () => ((await tc.views()).every((v) => flagsOf(v, target).includes(flag) === present) ? true : undefined), 2000)
      await expectEverywhere(flag, present)
    }
    expect((await cli(['node', 'enable', String(target)], env())).stdout).toBe(`Node ${target} is not disabled\n`)

    // Long enough that the second ban below still finds it under load (a CLI start can take seconds).
    const ban = await cli(['node', 'ban', String(target), '--for', '6s'], env())
    expect(ban.code).toBe(0)
    await expectEverywhere('BANNED', true)
    expect((await cli(['node', 'ban', String(target), '--for', '6s'], env())).stdout).toBe(`Node ${target} is already banned\n`)
    // The ban expires by itself.
    await waitFor('ban to expire everywhere', async () => ((await tc.views()).every((v) => !flagsOf(v, target).includes('BANNED')) ? true : undefined), 9000)

    expect((await cli(['node', 'ban', String(target), '--for', '60s'], env())).code).toBe(0)
    expect((await cli(['node', 'unban', String(target)], env())).code).toBe(0)
    await expectEverywhere('BANNED', false)
  }, 40_000)

  test('DISABLED survives a daemon restart', async () => {
    const target = 1
    expect((await cli(['node', 'disable', String(target)], env())).code).toBe(0)
    const d = tc.sandbox.daemons[target]
    await stopProcess(d.pid)
    tc.sandbox.daemons[target] = startDaemon(tc.sandbox, target)
    await waitFor('restarted node to rejoin disabled', async () => {
      const views = await tc.views()
      return views.every((v) => flagsOf(v, target).join() === 'DISABLED') ? true : undefined
    }, 10_000)
    expect((await cli(['node', 'enable', String(target)], env())).code).toBe(0)
  }, 30_000)

  test('kill -9 of a non-leader: DISCONNECTED within the bound, and it rejoins after a restart', async () => {
    const leader = leaderOf(await tc.views())!
    const victim = [0, 1, 2].find((p) => p !== leader)!
    const killedAt = Date.now()
    process.kill(tc.sandbox.daemons[victim].pid, 'SIGKILL')
    const observer = tc.sandbox.daemons.find((d) => d.pnn !== victim)!.pnn
    await waitFor('victim DISCONNECTED', async () => (flagsOf(await tc.client.status(observer), victim).includes('DISCONNECTED') ? true : undefined), 5000, 20)
    const detectMs = Date.now() - killedAt
    expect(detectMs).toBeLessThan(DETECT_BOUND_MS + 500)
    expect((await tc.client.status(observer)).leader).toBe(leader)

    tc.sandbox.daemons[victim] = startDaemon(tc.sandbox, victim)
    await tc.explain(waitFor('victim to rejoin', async () => ((await tc.views()).every((v) => v.nodes.every((n) => n.flags.length === 0)) ? true : undefined), 30_000), [victim])
  }, 60_000)

  test('kill -9 of the leader: a new leader within the bound; the old one rejoins', async () => {
    const leader = leaderOf(await tc.views())!
    const killedAt = Date.now()
    process.kill(tc.sandbox.daemons[leader].pid, 'SIGKILL')
    const survivors = [0, 1, 2].filter((p) => p !== leader)
    const newLeader = await waitFor('a new leader', async () => {
      const views = await Promise.all(survivors.map((p) => tc.client.status(p)))
      const l = leaderOf(views)
      return l !== undefined && l >= 0 && l !== leader ? l : undefined
    }, 15_000, 20)
    const bound = lockType === 'none' ? DETECT_BOUND_MS + 500 : LEASE_TTL_MS + DETECT_BOUND_MS + 1000
    expect(Date.now() - killedAt).toBeLessThan(bound)
    expect(survivors).toContain(newLeader)

    tc.sandbox.daemons[leader] = startDaemon(tc.sandbox, leader)
    const rejoined = waitFor('old leader to rejoin', async () => {
      const views = await tc.views()
      const l = leaderOf(views)
      return l !== undefined && l >= 0 && views.every((v) => v.nodes.every((n) => n.flags.length === 0)) ? true : undefined
    }, 30_000)
    await tc.explain(rejoined, [leader])
  }, 60_000)

  test('stopping the NATS server a daemon uses: it reconnects elsewhere without being declared dead', async () => {
    const victim = 1
    await waitFor('every node OK before the cut', async () => ((await tc.views()).every((v) => v.nodes.every((n) => n.flags.length === 0)) ? true : undefined), 20_000)
    const server = tc.sandbox.nats[victim]
    const observer = 0
    // A client of its own on the observer's server, so the test's connection is not the one cut.
    const client = await ClusterClient.connect({cluster: tc.sandbox.cluster, nats: {servers: [tc.sandbox.nats[observer].url]}}, 2000)
    const seen: string[][] = []
    let watching = true
    const watcher = (async () => {
      while (watching) {
        seen.push(flagsOf(await client.status(observer), victim))
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    await stopProcess(server.pid, undefined, 'SIGKILL')
    await new Promise((r) => setTimeout(r, 3000))
    watching = false
    await watcher
    expect(seen.length).toBeGreaterThan(20)
    expect(seen.filter((f) => f.includes('DISCONNECTED'))).toEqual([])
    const views = await Promise.all([0, 2].map((p) => client.status(p)))
    await client.close()
    for (const v of views) expect(flagsOf(v, victim)).toEqual([])
  }, 45_000)
})

describe('daemon command errors', () => {
  test('an unreachable cluster is a clear error within a few seconds, never a hang', async () => {
    const started = Date.now()
    const r = await cli(['status', '--nats', 'nats://127.0.0.1:1', '--cluster', 'nowhere', '--timeout', '2'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error: cannot reach the NATS servers of cluster nowhere \(nats:\/\/127\.0\.0\.1:1\)/)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test('no cluster given is a usage error', async () => {
    const r = await cli(['status'], {CTDBCTL_CONFIG: ''})
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('which cluster?')
  })
})
