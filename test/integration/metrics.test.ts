// Observability (issue 12 item 3): each daemon's /metrics agrees with `status --json` from the
// same node; logs carry node, generation and revision on every line; status shows the last
// takeover run with its duration.
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {ClusterState} from '../../src/cluster/state.js'
import {stopProcess} from '../../src/dev/nats-servers.js'
import {runCli} from '../helpers/cli.js'
import {startTestCluster, type TestCluster} from '../helpers/sandbox.js'
import {waitFor} from '../helpers/wait.js'

let tc: TestCluster
const cli = (args: string[]) => runCli(args, {env: {CTDBCTL_CONFIG: tc.sandbox.configFile}})

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) continue
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    out.push({name: m[1], labels, value: Number(m[3])})
  }
  return out
}

async function scrape(pnn: number): Promise<Sample[]> {
  const res = await fetch(tc.sandbox.daemons[pnn].metricsUrl!)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain')
  return parseMetrics(await res.text())
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value)

async function statusOf(pnn: number): Promise<ClusterState> {
  const r = await cli(['status', '--node', String(pnn), '--json'])
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as ClusterState
}

/** Every gauge of node `pnn` against its own `status --json`. */
async function expectMetricsMatchStatus(pnn: number): Promise<void> {
  const samples = await scrape(pnn)
  const state = await statusOf(pnn)
  expect(value(samples, 'ctdbctl_leader_pnn')).toEqual([state.leader])
  expect(value(samples, 'ctdbctl_is_leader')).toEqual([state.leader === pnn ? 1 : 0])
  expect(value(samples, 'ctdbctl_generation')).toEqual([state.generation])
  expect(value(samples, 'ctdbctl_config_revision')).toEqual([state.configRevision])
  for (const n of state.nodes) {
    const set = samples.filter((s) => s.name === 'ctdbctl_node_flag' && s.labels.node_pnn === String(n.pnn) && s.value === 1).map((s) => s.labels.flag)
    expect(set.sort()).toEqual([...n.flags].sort())
  }
  for (const a of state.publicAddresses) expect(value(samples, 'ctdbctl_address_holder', {address: a.address})).toEqual([a.pnn])
  expect(value(samples, 'ctdbctl_addresses_held')).toEqual([state.publicAddresses.filter((a) => a.pnn === pnn).length])
  for (const s of samples) expect(s.labels).toMatchObject({cluster: 'it', node: `n${pnn}`, pnn: String(pnn)})
}

beforeAll(async () => {
  tc = await startTestCluster(3, '', {metrics: true})
  const seed = readFileSync(tc.sandbox.configFile, 'utf8')
  const file = join(tc.sandbox.dir, 'addresses.yaml')
  writeFileSync(file, seed.replace('  nodes:\n', '  publicAddresses:\n    - {address: 192.0.2.10/24, interfaces: [eth1]}\n    - {address: 192.0.2.11/24, interfaces: [eth1]}\n    - {address: 192.0.2.12/24, interfaces: [eth1]}\n  nodes:\n'))
  const r = await cli(['apply', file, '--yes', '-m', 'three addresses'])
  if (r.code !== 0) throw new Error(`apply failed: ${r.stderr}`)
}, 90_000)

afterAll(async () => {
  await tc?.down()
}, 30_000)

test('every daemon\'s /metrics matches its status --json', async () => {
  for (const d of tc.sandbox.daemons) await expectMetricsMatchStatus(d.pnn)
}, 30_000)

test('the leader counts its takeover runs and recoveries; status shows the last of each with its duration', async () => {
  const state = await statusOf(0)
  const leader = state.leader!
  const samples = await scrape(leader)
  const ok = value(samples, 'ctdbctl_takeover_runs_total', {result: 'ok'})[0]
  const failed = value(samples, 'ctdbctl_takeover_runs_total', {result: 'failed'})[0]
  expect(ok).toBeGreaterThanOrEqual(1)
  expect(value(samples, 'ctdbctl_takeover_run_duration_seconds_count')).toEqual([ok + failed])
  const human = await cli(['status'])
  const m = /^Last takeover run:(\d+) OK in (\d+\.\d{3}) seconds at (\S+) \((.+)\)$/m.exec(human.stdout)
  expect(m).not.toBeNull()
  expect(Number(m![1])).toBeGreaterThanOrEqual(1)
  // The leader recovered the databases when the cluster formed: status and the counters agree.
  expect(human.stdout).toMatch(/^Last recovery:OK in \d+\.\d{3} seconds at \S+$/m)
  const recoveries = value(samples, 'ctdbctl_recoveries_total', {result: 'ok'})[0]
  expect(recoveries).toBeGreaterThanOrEqual(1)
  expect(value(samples, 'ctdbctl_recovery_duration_seconds_count')).toEqual([recoveries + (value(samples, 'ctdbctl_recoveries_total', {result: 'failed'})[0] ?? 0)])
  // Followers ran none.
  for (const d of tc.sandbox.daemons.filter((x) => x.pnn !== leader)) expect(value(await scrape(d.pnn), 'ctdbctl_takeover_runs_total', {result: 'ok'})).toEqual([0])
}, 30_000)

test('after a ban the flags and holders in /metrics follow status', async () => {
  const leader = (await statusOf(0)).leader!
  const target = [0, 1, 2].find((p) => p !== leader)!
  expect((await cli(['node', 'ban', String(target), '--for', '60s'])).code).toBe(0)
  await waitFor('the banned node to hold nothing', async () => ((await statusOf(leader)).publicAddresses.every((a) => a.pnn !== target && a.pnn >= 0) ? true : undefined), 15_000, 200)
  for (const d of tc.sandbox.daemons) await expectMetricsMatchStatus(d.pnn)
  expect(value(await scrape(leader), 'ctdbctl_node_flag', {node_pnn: String(target), flag: 'BANNED'})).toEqual([1])
  expect((await cli(['node', 'unban', String(target)])).code).toBe(0)
}, 60_000)

test('database requests on a node\'s socket are counted by database, operation and result', async () => {
  const socket = {CTDBCTL_SOCKET: join(tc.sandbox.daemons[1].dataDir, 'ctdbd.socket')}
  expect((await runCli(['db', 'attach', 'm.tdb', 'persistent'], {env: socket})).code).toBe(0)
  expect((await runCli(['db', 'ptrans', 'm.tdb'], {env: socket, input: '"k" "v"\n'})).code).toBe(0)
  expect((await runCli(['db', 'get', 'm.tdb', 'k'], {env: socket})).stdout).toBe('v')
  const samples = await scrape(1)
  expect(value(samples, 'ctdbctl_db_ops_total', {db: 'm.tdb', op: 'attach', result: 'ok'})).toEqual([1])
  expect(value(samples, 'ctdbctl_db_ops_total', {db: 'm.tdb', op: 'fetch', result: 'ok'})).toEqual([1])
  expect(value(samples, 'ctdbctl_db_ops_total', {db: 'm.tdb', op: 'txStart', result: 'ok'})).toEqual([1])
}, 60_000)

test('every daemon log line carries node, generation and revision', () => {
  for (const d of tc.sandbox.daemons) {
    const lines = readFileSync(d.log, 'utf8').split('\n').filter((l) => l.startsWith('{'))
    expect(lines.length).toBeGreaterThan(3)
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>
      expect(entry).toMatchObject({node: d.node, pnn: d.pnn})
      expect(typeof entry.generation).toBe('number')
      expect(typeof entry.revision).toBe('number')
    }
    // After the apply, lines name the revision the node runs.
    expect(lines.some((l) => (JSON.parse(l) as {revision: number}).revision >= 2)).toBe(true)
  }
})

test('a daemon whose NATS server dies counts the reconnection', async () => {
  expect(value(await scrape(0), 'ctdbctl_nats_reconnects_total')).toEqual([0])
  await stopProcess(tc.sandbox.nats[0].pid) // daemon n0's own server; n0 moves to another
  await waitFor('n0 to count a reconnect', async () => (value(await scrape(0), 'ctdbctl_nats_reconnects_total')[0] >= 1 ? true : undefined), 20_000, 200)
  expect(value(await scrape(1), 'ctdbctl_nats_reconnects_total')).toEqual([0])
}, 30_000)
