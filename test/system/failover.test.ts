// Public IP failover on real interfaces in network namespaces (issue 7 acceptance): 3 nodes,
// each with its own nats-server and daemon (iproute2 driver), 6 public addresses on eth1, a
// client namespace that connects to a TCP service on every address.
import {execFile} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {promisify} from 'node:util'
import {ClusterClient} from '../../src/client/cluster-client.js'
import {createLabCluster, type LabCluster} from '../../src/dev/lab-cluster.js'
import {nsExec} from '../../src/dev/netlab.js'
import {BIN, runCli} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'

const run = promisify(execFile)
let lc: LabCluster
let client: ClusterClient
const onCleanup: (() => Promise<void>)[] = []

const cli = (args: string[]) => runCli(args, {env: lc.cliEnv})

/** Public addresses really configured in each node namespace (from `ip -j addr`). */
async function hostHoldings(): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>()
  for (const node of lc.lab.nodes) {
    const json = JSON.parse(await nsExec(node.ns, ['ip', '-j', 'addr', 'show', 'dev', 'eth1'])) as {addr_info: {local: string}[]}[]
    out.set(node.index, json.flatMap((l) => l.addr_info.map((a) => a.local)).filter((a) => lc.publicAddresses.includes(a)).sort())
  }
  return out
}

async function setLinks(pnn: number, up: boolean): Promise<void> {
  for (const tag of ['p', 'u']) await run('ip', ['-n', lc.lab.hub, 'link', 'set', `${lc.lab.prefix}${pnn}${tag}o`, up ? 'up' : 'down'])
}

/** Every address answered, and by whom. */
async function allAnswering(): Promise<Record<string, string> | undefined> {
  const answers = await lc.probe()
  return Object.values(answers).every((n) => n !== null) ? (answers as Record<string, string>) : undefined
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}

async function settled(): Promise<void> {
  await waitFor('the cluster to settle with every address held and answering', async () => {
    const s = await client.status()
    if (!s.nodes.every((n) => n.flags.length === 0) || !s.publicAddresses.every((a) => a.pnn >= 0)) return undefined
    const answers = await allAnswering()
    return answers && Object.values(countBy(Object.values(answers))).every((c) => c === 2) ? true : undefined
  }, 40_000, 200)
}

beforeAll(async () => {
  lc = await createLabCluster({nodes: 3, publicAddresses: 6})
  client = await waitFor('a client', () => lc.client(), 20_000, 200)
  await settled()
}, 90_000)

afterAll(async () => {
  await client?.close().catch(() => undefined)
  await lc?.destroy()
}, 30_000)

test('every address is held once, balanced, and `ip list` agrees with `ip addr` in each namespace', async () => {
  const list = await cli(['ip', 'list', '--all', '--json'])
  expect(list.code).toBe(0)
  const entries = JSON.parse(list.stdout) as {address: string; pnn: number}[]
  expect(entries.map((e) => e.address).sort()).toEqual([...lc.publicAddresses].sort())
  const hosts = await hostHoldings()
  for (const [pnn, held] of hosts) {
    expect(held).toEqual(entries.filter((e) => e.pnn === pnn).map((e) => e.address).sort())
    expect(held).toHaveLength(2)
  }
  const answers = (await allAnswering())!
  for (const e of entries) expect(answers[e.address]).toBe(`n${e.pnn}`)
})

test('node loss: its addresses are served by the survivors; when it returns they fail back', async () => {
  const victim = 2
  const daemon = lc.daemons[victim]
  process.kill(daemon.pid, 'SIGSTOP')
  await setLinks(victim, false)
  try {
    const answers = await waitFor('survivors to serve every address', async () => {
      const a = await allAnswering()
      return a && !Object.values(a).includes(`n${victim}`) ? a : undefined
    }, 15_000, 100)
    expect(countBy(Object.values(answers))).toEqual({n0: 3, n1: 3})
  } finally {
    await setLinks(victim, true)
    process.kill(daemon.pid, 'SIGCONT')
  }
  await settled()
  const hosts = await hostHoldings()
  expect(hosts.get(victim)).toHaveLength(2)
  expect([...hosts.values()].flat().sort()).toEqual([...lc.publicAddresses].sort())
}, 90_000)

test('disable, ban and stop make a node release its addresses; enable, unban and continue give them back', async () => {
  const target = 1
  for (const [off, on] of [[['node', 'disable', '1'], ['node', 'enable', '1']], [['node', 'ban', '1', '--for', '60s'], ['node', 'unban', '1']], [['node', 'stop', '1'], ['node', 'continue', '1']]]) {
    expect((await cli(off)).code).toBe(0)
    await waitFor(`${off.join(' ')} to move the addresses away`, async () => {
      const held = (await hostHoldings()).get(target)!
      const a = await allAnswering()
      return held.length === 0 && a && !Object.values(a).includes(`n${target}`) ? true : undefined
    }, 10_000, 100)
    expect((await cli(on)).code).toBe(0)
    await settled()
  }
}, 120_000)

/** The isolated node's own view, asked inside its namespace through its own NATS server. */
async function isolatedView(pnn: number): Promise<{leader: number; thisNode: number}> {
  const out = await nsExec(lc.lab.nodes[pnn].ns, [process.execPath, BIN, 'status', '--json', '--nats', lc.nats[pnn].url, '--cluster', lc.cluster, '-n', String(pnn), '--timeout', '2', ...(lc.cliEnv.CTDBCTL_NATS_CREDS ? ['--nats-creds', lc.cliEnv.CTDBCTL_NATS_CREDS] : [])])
  return JSON.parse(out) as {leader: number; thisNode: number}
}

test('a partition isolating one node: never two lock holders, the isolated node reports no leader and releases its addresses within the recovery timeout, and then no address is held twice', async () => {
  const victim = (await client.status()).leader === 0 ? 1 : 0
  const started = Date.now()
  await run('ip', ['-n', lc.lab.hub, 'link', 'set', `${lc.lab.prefix}${victim}po`, 'down'])
  let releasedAt: number | undefined
  let watching = true
  const releaseWatch = (async () => {
    while (watching && releasedAt === undefined) {
      if ((await hostHoldings()).get(victim)!.length === 0) releasedAt = Date.now()
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  try {
    // Sample both sides: at no moment do two nodes consider themselves the leader. The majority
    // is asked through a majority server (the shared client may be on the isolated one).
    const majority = [0, 1, 2].filter((p) => p !== victim)
    const majorityClient = await ClusterClient.connect({cluster: lc.cluster, nats: lc.natsTarget([majority[0]])}, 3000)
    onCleanup.push(() => majorityClient.close())
    let isolatedSawNoLeader = false
    for (let i = 0; i < 15; i++) {
      const [mine, ...theirs] = await Promise.all([isolatedView(victim), ...majority.map((p) => majorityClient.status(p))])
      const selfLeaders = [mine, ...theirs].filter((v) => v.leader === v.thisNode)
      expect(selfLeaders.length).toBeLessThanOrEqual(1)
      if (mine.leader === -1) isolatedSawNoLeader = true
      await new Promise((r) => setTimeout(r, 300))
    }
    expect(isolatedSawNoLeader).toBe(true)
    // recoveryTimeout (5 s) after the isolated node last heard a leader, plus detection and a pass.
    await waitFor('the isolated node to release everything', () => releasedAt, 10_000, 100)
    expect(releasedAt! - started).toBeLessThan(5000 + 1250 + 2500)
    for (let i = 0; i < 10; i++) {
      const hosts = await hostHoldings()
      const all = [...hosts.values()].flat()
      expect(new Set(all).size).toBe(all.length)
      await new Promise((r) => setTimeout(r, 200))
    }
    const answers = await waitFor('the majority to serve every address', allAnswering, 10_000, 100)
    expect(Object.values(answers)).not.toContain(`n${victim}`)
  } finally {
    watching = false
    await releaseWatch
    for (const f of onCleanup.splice(0)) await f().catch(() => undefined)
    await run('ip', ['-n', lc.lab.hub, 'link', 'set', `${lc.lab.prefix}${victim}po`, 'up'])
  }
  await settled()
}, 90_000)

test('with failback off, addresses stay where they are when a node returns', async () => {
  const noFailback = readFileSync(lc.configFile, 'utf8') + '  ipAllocation: {failback: false}\n'
  const file = `${lc.dir}/no-failback.yaml`
  writeFileSync(file, noFailback)
  const applied = await cli(['apply', file, '--yes', '--timeout', '10'])
  expect(applied.stderr).toBe('')
  expect(applied.code).toBe(0)
  const victim = 1
  const daemon = lc.daemons[victim]
  process.kill(daemon.pid, 'SIGSTOP')
  await setLinks(victim, false)
  try {
    await waitFor('survivors to serve every address', async () => {
      const a = await allAnswering()
      return a && !Object.values(a).includes(`n${victim}`) ? a : undefined
    }, 15_000, 100)
  } finally {
    await setLinks(victim, true)
    process.kill(daemon.pid, 'SIGCONT')
  }
  await waitFor('the node to rejoin', async () => ((await client.status()).nodes.every((n) => n.flags.length === 0) ? true : undefined), 20_000, 200)
  await new Promise((r) => setTimeout(r, 3000))
  expect((await hostHoldings()).get(victim)).toEqual([])
  const answers = await allAnswering()
  expect(answers).toBeDefined()
  expect(Object.values(answers!)).not.toContain(`n${victim}`)
}, 90_000)
