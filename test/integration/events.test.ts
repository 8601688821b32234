// Event scripts and services in a loopback cluster of real daemons (fake IP driver): health and
// UNHEALTHY with address moves, startipreallocate/takeip/releaseip/ipreallocated order and arguments, hung and
// disabled scripts, the NFS callout sequence, and the `event` commands.
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {connect} from '@nats-io/transport-node'
import type {ClusterState} from '../../src/cluster/state.js'
import {parseControlReply} from '../../src/protocol/messages.js'
import {subjects} from '../../src/protocol/subjects.js'
import {REPO_ROOT, requireBuilt, runCli} from '../helpers/cli.js'
import {flagsOf, startTestCluster, type TestCluster} from '../helpers/sandbox.js'
import {waitFor} from '../helpers/wait.js'

const MONITOR_INTERVAL_MS = 1000
const FAILURES = 2
const SCRIPT_TIMEOUT_MS = 3000
/** The bound of the acceptance criterion, plus slack for a loaded machine (2 cores, 5 users). */
const UNHEALTHY_BOUND_MS = MONITOR_INTERVAL_MS * FAILURES + 4000

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-events-it-'))
const scripts = join(dir, 'events')
let tc: TestCluster

function writeScript(path: string, body: string, mode = 0o755): void {
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, mode)
}

const ADDRESSES = ['192.0.2.10', '192.0.2.11', '192.0.2.12']

const extraSpec = `  publicAddresses:
${ADDRESSES.map((a) => `    - {address: ${a}/24, interfaces: [eth1]}`).join('\n')}
  eventScripts: ${scripts}
  services:
    - name: web
      monitor: {command: [${dir}/check-web, '${dir}'], interval: 1s, timeout: 1s, failures: ${FAILURES}}
    - name: nfs
      nfsCallout: ${dir}/callout
  tunables: {monitorInterval: 1s, eventScriptTimeout: 3s}
`

const cli = (args: string[]) => runCli(args, {env: {CTDBCTL_CONFIG: tc.sandbox.configFile}})
const eventsOf = (node: string): string[] => (existsSync(join(dir, `${node}.events`)) ? readFileSync(join(dir, `${node}.events`), 'utf8').trim().split('\n') : [])
const holdersOf = (s: ClusterState) => Object.fromEntries(s.publicAddresses.map((a) => [a.address, a.pnn]))

beforeAll(async () => {
  requireBuilt('dist/daemon/event-service.js')
  mkdirSync(scripts)
  // Records every event but monitor, per node.
  writeScript(join(scripts, '10.record.script'), `[ "$1" = monitor ] || echo "$*" >> ${dir}/$CTDBCTL_NODE.events`)
  // Hangs in monitor while DIR/NODE.hang exists.
  writeScript(join(scripts, '20.hang.script'), `[ "$1" = monitor ] && [ -e ${dir}/$CTDBCTL_NODE.hang ] && exec sleep 60\nexit 0`)
  writeScript(join(scripts, '30.disabled.script'), `echo "must not run" >> ${dir}/disabled-ran`, 0o644)
  writeScript(join(dir, 'check-web'), 'test ! -e "$1/$CTDBCTL_NODE.down"')
  writeScript(join(dir, 'callout'), `NFS_CALLOUT_LOG=${dir}/$CTDBCTL_NODE.nfs NFS_CALLOUT_SYSTEMCTL=/bin/true exec ${REPO_ROOT}/examples/nfs-callout/nfs-callout "$@"`)
  tc = await startTestCluster(3, extraSpec)
  await waitFor('every node healthy with every address held', async () => {
    const s = await tc.client.status()
    return s.nodes.every((n) => n.flags.length === 0) && s.publicAddresses.every((a) => a.pnn >= 0) ? true : undefined
  }, 30_000, 100)
}, 60_000)

afterAll(async () => {
  await tc?.down()
  rmSync(dir, {recursive: true, force: true})
}, 30_000)

test('start-up events ran in CTDB order; event status shows scripts, services and the disabled script', async () => {
  for (const n of ['n0', 'n1', 'n2']) expect(eventsOf(n).slice(0, 3)).toEqual(['init', 'setup', 'startup'])
  const r = await cli(['event', 'status', '-n', 'n0'])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  const lines = r.stdout.trim().split('\n')
  expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['10.record OK', '20.hang OK', '30.disabled DISABLED', 'service:web OK', 'service:nfs OK'])
  expect(lines[0]).toMatch(/^10\.record {12}OK {9}\d+\.\d{3} \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/)
  expect(existsSync(join(dir, 'disabled-ran'))).toBe(false)
  const json = JSON.parse((await cli(['event', 'status', 'startup', '--json'])).stdout) as {pnn: number; result: {status: string}}[]
  expect(json.map((j) => [j.pnn, j.result.status])).toEqual([[0, 'OK'], [1, 'OK'], [2, 'OK']])
})

test('the NFS callout sees register, startup, then the monitor sequence', async () => {
  const ops = readFileSync(join(dir, 'n0.nfs'), 'utf8').trim().split('\n')
  expect(ops.slice(0, 5)).toEqual(['register', 'startup', 'monitor-pre', 'monitor-list-shares', 'monitor-post'])
})

test('a failing monitor makes the node UNHEALTHY, its addresses move with takeip/releaseip, and come back when it recovers', async () => {
  const before = holdersOf(await tc.client.status())
  const mine = ADDRESSES.filter((a) => before[a] === 1)
  expect(mine.length).toBeGreaterThan(0)
  const mark = Object.fromEntries(['n0', 'n1', 'n2'].map((n) => [n, eventsOf(n).length]))
  const nfsMark = readFileSync(join(dir, 'n1.nfs'), 'utf8').trim().split('\n').length

  writeFileSync(join(dir, 'n1.down'), '')
  const t0 = Date.now()
  await waitFor('n1 UNHEALTHY', async () => (flagsOf(await tc.client.status(), 1).includes('UNHEALTHY') ? true : undefined), UNHEALTHY_BOUND_MS, 50)
  const tookMs = Date.now() - t0
  expect(tookMs).toBeLessThan(UNHEALTHY_BOUND_MS)
  await waitFor('n1 addresses moved away', async () => {
    const h = holdersOf(await tc.client.status())
    return ADDRESSES.every((a) => h[a] >= 0 && h[a] !== 1) ? true : undefined
  }, 15_000)
  await waitFor('the events recorded', () => (mine.every((a) => eventsOf('n1').slice(mark.n1).includes(`releaseip eth1 ${a} 24`)) ? true : undefined), 10_000)

  // Each node's events run in order, so once ipreallocated is recorded its takeip/releaseip are too.
  await waitFor('ipreallocated everywhere', () => (['n0', 'n1', 'n2'].every((n) => eventsOf(n).slice(mark[n]).includes('ipreallocated')) ? true : undefined), 10_000)
  // n1 released exactly its addresses with CTDB's arguments; the others took them.
  const n1 = eventsOf('n1').slice(mark.n1)
  expect(n1.filter((e) => e.startsWith('releaseip')).sort()).toEqual(mine.map((a) => `releaseip eth1 ${a} 24`).sort())
  const takers = ['n0', 'n2'].flatMap((n) => eventsOf(n).slice(mark[n]).filter((e) => e.startsWith('takeip')))
  expect(takers.sort()).toEqual(mine.map((a) => `takeip eth1 ${a} 24`).sort())
  // ipreallocated ran on every node after the run, after that node's takeip/releaseip.
  for (const n of ['n0', 'n1', 'n2']) {
    const evs = eventsOf(n).slice(mark[n])
    const lastIp = Math.max(...evs.map((e, i) => (/^(takeip|releaseip)/.test(e) ? i : -1)))
    expect(evs.lastIndexOf('ipreallocated')).toBeGreaterThan(lastIp)
  }
  // startipreallocate opened the run on n1 before it released anything.
  const n1Run = eventsOf('n1').slice(mark.n1)
  expect(n1Run.indexOf('startipreallocate')).toBeGreaterThanOrEqual(0)
  expect(n1Run.indexOf('startipreallocate')).toBeLessThan(n1Run.findIndex((e) => e.startsWith('releaseip')))
  // The callout was told about the release too.
  const nfs = readFileSync(join(dir, 'n1.nfs'), 'utf8').trim().split('\n').slice(nfsMark)
  for (const a of mine) expect(nfs).toContain(`releaseip eth1 ${a} 24`)
  const status = await cli(['event', 'status', '-n', '1'])
  expect(status.code).toBe(1)
  expect(status.stdout).toMatch(/service:web {10}ERROR/)

  rmSync(join(dir, 'n1.down'))
  await waitFor('n1 healthy and holding addresses again (failback)', async () => {
    const s = await tc.client.status()
    return flagsOf(s, 1).length === 0 && Object.values(holdersOf(s)).includes(1) ? true : undefined
  }, 20_000)
  // The takeip event runs just after the address was added (queued): wait for its record.
  const now = holdersOf(await tc.client.status())
  const returned = ADDRESSES.filter((a) => now[a] === 1)
  expect(returned.length).toBeGreaterThan(0)
  await waitFor('takeip on n1 for what it got back', () => (returned.every((a) => eventsOf('n1').slice(mark.n1).includes(`takeip eth1 ${a} 24`)) ? true : undefined), 10_000)
  process.stdout.write(`UNHEALTHY after ${tookMs} ms (bound ${MONITOR_INTERVAL_MS * FAILURES} ms + slack)\n`)
})

test('a hung monitor script is killed at the timeout, reported, and the daemon stays responsive', async () => {
  writeFileSync(join(dir, 'n2.hang'), '')
  const t0 = Date.now()
  // While it hangs the daemon answers controls and keeps its heartbeats (never DISCONNECTED).
  let answered = 0
  await waitFor('n2 UNHEALTHY after its monitor timed out', async () => {
    const s = await tc.client.status(2)
    answered++
    expect(flagsOf(await tc.client.status(0), 2)).not.toContain('DISCONNECTED')
    return flagsOf(s, 2).includes('UNHEALTHY') ? true : undefined
  }, SCRIPT_TIMEOUT_MS + MONITOR_INTERVAL_MS + 6000, 100)
  expect(Date.now() - t0).toBeGreaterThanOrEqual(SCRIPT_TIMEOUT_MS - 500)
  expect(answered).toBeGreaterThan(5)
  const r = await cli(['event', 'status', 'monitor', '-n', 'n2'])
  expect(r.code).toBe(1)
  expect(r.stdout).toMatch(/^20\.hang {14}TIMEDOUT {3}\w{3} /m)
  expect(r.stdout).not.toContain('30.disabled') // the event stopped at the failure, as CTDB
  rmSync(join(dir, 'n2.hang'))
  await waitFor('n2 healthy again', async () => (flagsOf(await tc.client.status(), 2).length === 0 ? true : undefined), 20_000)
})

test('event run, script enable/disable and bad input', async () => {
  const bad = await cli(['event', 'run', 'takeip', 'eth1', '-n', 'n0'])
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain('event takeip takes 3 arguments, got 1')
  const unknown = await cli(['event', 'run', 'reload', '-n', 'n0'])
  expect(unknown.stderr).toContain('unknown event "reload"')

  const mark = eventsOf('n0').length
  const ok = await cli(['event', 'run', 'updateip', 'eth1', 'eth2', '192.0.2.99', '24', '-n', 'n0'])
  expect(ok).toMatchObject({code: 0, stderr: ''})
  expect(eventsOf('n0').slice(mark)).toContain('updateip eth1 eth2 192.0.2.99 24')

  expect((await cli(['event', 'script', 'disable', '10.record', '-n', 'n0'])).code).toBe(0)
  await cli(['event', 'run', 'recovered', '-n', 'n0'])
  expect(eventsOf('n0').slice(mark)).not.toContain('recovered')
  const st = await cli(['event', 'status', 'recovered', '-n', 'n0'])
  expect(st.stdout).toMatch(/^10\.record {12}DISABLED$/m)
  expect((await cli(['event', 'script', 'enable', '10.record', '-n', 'n0'])).code).toBe(0)
  const again = await cli(['event', 'script', 'enable', '10.record', '-n', 'n0'])
  expect(again.stdout).toBe('node 0: Script 10.record is already enabled\n')
  const missing = await cli(['event', 'script', 'enable', '99.nothing', '-n', 'n0'])
  expect(missing.code).toBe(1)
  expect(missing.stderr).toContain('Script 99.nothing does not exist')
})

test('malformed event controls get an error reply and the daemon keeps running', async () => {
  const nc = await connect({servers: tc.sandbox.nats[0].url})
  try {
    for (const body of [{v: 1, op: 'event-run', event: 'monitor'}, {v: 1, op: 'event-script', script: 5}, {v: 1, op: 'event-run', event: 'takeip', args: []}]) {
      const reply = parseControlReply((await nc.request(subjects(tc.sandbox.cluster).control(0), JSON.stringify(body), {timeout: 5000})).data)
      expect(reply).toMatchObject({ok: false})
    }
  } finally {
    await nc.close()
  }
  expect(flagsOf(await tc.client.status(0), 0)).toEqual([])
})
