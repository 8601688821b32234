// The chaos suite's short run (root): a 3-node namespace cluster with database clients on every
// node, a fixed seed, every kind of fault at least once, zero violations. A second, small run
// injects faults that break the invariants on purpose (a monitor left failing, a daemon killed
// behind the run's back, an impostor claiming the cluster lock) and expects them reported: the
// checkers can fail. The long run is `npm run chaos -- --minutes N`.
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Fault} from '../../src/dev/chaos/context.js'
import {FAULTS} from '../../src/dev/chaos/faults/index.js'
import {formatSummary} from '../../src/dev/chaos/recorder.js'
import {runChaos} from '../../src/dev/chaos/runner.js'
import {SETTLED_INVARIANTS} from '../../src/dev/chaos/checks/settled.js'
import {scrapeInNamespace} from '../../src/dev/chaos/checks/lock.js'
import {metricValue, parseMetrics} from '../../src/dev/chaos/checks/prometheus.js'
import {stopProcess} from '../../src/dev/nats-servers.js'
import {waitFor} from '../helpers/wait.js'
import {requireBuilt} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-chaos-test-'))

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('the chaos suite needs root (network namespaces)')
  requireBuilt('dist/dev/chaos/runner.js')
})

afterAll(() => rmSync(dir, {recursive: true, force: true}))

test('a short seeded run: every kind of fault injected, every invariant checked, no violation', async () => {
  const logFile = join(dir, 'short.log')
  const summary = await runChaos({seed: 12, nodes: 3, durationMs: 60_000, everyKind: true, logFile})
  if (summary.violations.length > 0) console.error(formatSummary(summary))
  expect(summary.violations).toEqual([])
  for (const f of FAULTS) expect(summary.faults[f.kind]).toBeGreaterThan(0)
  const faults = Object.values(summary.faults).reduce((a, b) => a + b, 0)
  // Once after the start, after each fault, and once more with the clients stopped.
  for (const name of SETTLED_INVARIANTS) expect(summary.checks[name]).toBe(faults + 2)
  expect(summary.workload!.commits).toBeGreaterThan(50)
  expect(summary.workload!.volatileUpdates).toBeGreaterThan(50)
  // Every volatile update was preceded by an RSN check of its fetchLock (or a revert after a node loss).
  expect(summary.checks['volatile-rsn'] + summary.workload!.revertsAfterNodeLoss).toBeGreaterThanOrEqual(summary.workload!.volatileUpdates)
  expect(summary.checks['single-lock-holder']).toBeGreaterThan(10)
  // 3 nats-servers and 3 daemons, each still running (restarted ones included) at the end.
  expect(summary.checks['no-crash']).toBe(6)
  expect(summary.metricsScrapes.ok).toBeGreaterThan(summary.metricsScrapes.failed)
  // The log holds every fault with its target and hold time, in order: the replayable sequence.
  const logged = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {kind: string})
  expect(logged.filter((e) => e.kind === 'fault')).toHaveLength(faults)
  expect(logged[0]).toMatchObject({kind: 'start', seed: 12})
}, 400_000)

test('faults that break the invariants are reported as violations', async () => {
  const monitorLeftFailing: Fault = {
    kind: 'monitor-left-failing',
    async inject(ctx, pnn) {
      writeFileSync(join(ctx.monitorDir, `n${pnn}.down`), '')
      return async () => undefined
    },
  }
  const rogueKill: Fault = {
    kind: 'rogue-kill',
    async inject(ctx, pnn) {
      // Killed without telling the run: the crash checker must call it a crash.
      process.kill(ctx.lc.daemons[(pnn + 1) % ctx.lc.daemons.length].pid, 'SIGKILL')
      return async () => undefined
    },
  }
  const impostor: Fault = {
    kind: 'impostor-leader',
    async inject(ctx, pnn) {
      // The target's daemon is replaced by a process whose metrics claim the lock, while the
      // real cluster elects a leader elsewhere: the lock sampler must see two holders.
      const d = ctx.lc.daemons[pnn]
      ctx.expectedExits.add(d.pid)
      await stopProcess(d.pid, d.process, 'SIGKILL')
      const fake = spawn('ip', ['netns', 'exec', d.ns, process.execPath, '-e', `require('http').createServer((q, r) => r.end('ctdbctl_is_leader 1\\n')).listen(${ctx.metricsPort})`], {stdio: 'ignore'})
      const others = ctx.lc.lab.nodes.map((n) => n.index).filter((p) => p !== pnn)
      await waitFor('a real leader besides the impostor', async () => {
        const texts = await Promise.all(others.map((p) => scrapeInNamespace(ctx, p)))
        return texts.some((t) => t !== undefined && metricValue(parseMetrics(t), 'ctdbctl_is_leader') === 1) ? true : undefined
      }, 20_000, 200)
      await new Promise((r) => setTimeout(r, 1500)) // at least two lock samples with both claims
      return async () => {
        await stopProcess(fake.pid!, fake, 'SIGKILL')
        const started = ctx.lc.startDaemon(pnn)
        ctx.watch(`daemon n${pnn}`, started.process, started.log)
      }
    },
  }
  const summary = await runChaos({seed: 3, nodes: 3, durationMs: 0, everyKind: true, settleMs: 8000, holdMs: [500, 500], faults: [monitorLeftFailing, rogueKill, impostor], databases: false, logFile: join(dir, 'broken.log')})
  const invariants = new Set(summary.violations.map((v) => v.invariant))
  expect(invariants).toContain('no-crash')
  expect(invariants).toContain('cluster-agrees')
  expect(summary.violations.find((v) => v.invariant === 'single-lock-holder')?.detail).toMatch(/^nodes \d, \d all report holding the cluster lock$/)
  expect(summary.violations.find((v) => v.invariant === 'no-crash')!.detail).toMatch(/daemon n\d \(pid \d+\) exited on its own with SIGKILL/)
  expect(summary.violations.find((v) => v.invariant === 'cluster-agrees')!.detail).toMatch(/UNHEALTHY|DISCONNECTED|answered/)
}, 200_000)
