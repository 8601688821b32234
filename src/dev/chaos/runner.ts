// A chaos run: a lab cluster in network namespaces (src/dev/lab-cluster.ts) with a service
// monitor and metrics, faults injected in a seeded order (src/dev/chaos/schedule.ts: one at a
// time, or with --overlap sometimes two on different nodes), and the invariants checked
// continuously (lock holders, crashes) and after each heal (src/dev/chaos/checks/).
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ClusterClient} from '../../client/cluster-client.js'
import {createLabCluster} from '../lab-cluster.js'
import {CrashWatcher} from './checks/crash.js'
import {LockSampler} from './checks/lock.js'
import {DATABASES_SPEC, DbWorkload} from './checks/databases.js'
import {checkSettled} from './checks/settled.js'
import type {ChaosContext, Fault} from './context.js'
import {FAULTS} from './faults/index.js'
import {mulberry32} from './prng.js'
import {FaultSchedule} from './schedule.js'
import {Recorder, type ChaosSummary} from './recorder.js'

export interface ChaosOptions {
  seed: number
  nodes: number
  durationMs: number
  /** JSON-lines log of every fault and check. */
  logFile: string
  /** Keep injecting until every kind of fault ran at least once, even past durationMs. */
  everyKind?: boolean
  /** Bound for the cluster to settle after a heal. */
  settleMs?: number
  faults?: readonly Fault[]
  /** Range of how long a fault lasts before its heal. */
  holdMs?: [number, number]
  /** Called with each log line as it is written (progress on a terminal). */
  echo?: (line: string) => void
  /** Database clients on every node (persistent transactions, volatile updates) and their invariants. */
  databases?: boolean
  /** Ends the run after the current fault (Ctrl-C). */
  signal?: AbortSignal
  /** Probability (0–1) that a fault overlaps a second one on another node (default 0). */
  overlap?: number
}

const METRICS_PORT = 9464
const HOLD_MS: [number, number] = [1500, 8000]

/** What the other nodes see of the target just before the heal (for the log, not a check). */
async function majorityView(ctx: ChaosContext, target: number): Promise<unknown> {
  const other = (target + 1) % ctx.lc.daemons.length
  let client: ClusterClient | undefined
  try {
    client = await ClusterClient.connect({cluster: ctx.lc.cluster, nats: ctx.lc.natsTarget([other])}, 1000)
    const s = await client.status(other)
    return {pnn: other, leader: s.leader, targetFlags: s.nodes.find((n) => n.pnn === target)?.flags, targetHolds: s.publicAddresses.filter((a) => a.pnn === target).length}
  } catch (e) {
    return {pnn: other, error: (e as Error).message}
  } finally {
    await client?.close().catch(() => undefined)
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const faults = options.faults ?? FAULTS
  const settleMs = options.settleMs ?? 30_000
  const rng = mulberry32(options.seed)
  const rec = new Recorder(options.logFile, options.echo)
  const monitorDir = mkdtempSync(join(tmpdir(), 'ctdbctl-chaos-'))
  const check = join(monitorDir, 'check')
  writeFileSync(check, '#!/bin/sh\ntest ! -e "$1/$CTDBCTL_NODE.down"\n')
  chmodSync(check, 0o755)
  rec.event('start', {seed: options.seed, nodes: options.nodes, durationMs: options.durationMs, settleMs})
  const lc = await createLabCluster({
    nodes: options.nodes,
    publicAddresses: options.nodes * 2,
    name: 'chaos',
    metricsPort: METRICS_PORT,
    extraSpec: (options.databases === false ? '' : DATABASES_SPEC) + `  services:\n    - name: chaos\n      monitor: {command: [${check}, '${monitorDir}'], interval: 1s, timeout: 1s, failures: 1}\n`,
  })
  rec.event('lab', {dir: lc.dir, keep: 'CTDBCTL_KEEP_LAB=1 keeps it (daemon and nats-server logs) after the run'})
  const expectedExits = new Set<number>()
  const crashes = new CrashWatcher(rec, expectedExits)
  const ctx: ChaosContext = {lc, rng, rec, monitorDir, metricsPort: METRICS_PORT, expectedExits, lastSeenInactive: new Map(), watch: (label, child, log) => crashes.watch(label, child, log)}
  lc.daemons.forEach((d) => ctx.watch(`daemon n${d.pnn}`, d.process, d.log))
  lc.nats.forEach((s, i) => ctx.watch(`nats-server ${i}`, s.process))
  const workload = options.databases === false ? undefined : new DbWorkload(ctx)
  if (workload) ctx.lostCommits = () => workload.lostCommits()
  const sampler = new LockSampler(ctx)
  let started = Date.now()
  try {
    rec.event('settling', {after: 'start'})
    await checkSettled(ctx, Math.max(settleMs, 60_000))
    if (rec.violations.length > 0) throw new Error(`the lab cluster did not start cleanly: ${rec.violations[0].detail}`)
    sampler.start()
    workload?.start()
    started = Date.now()
    const injected = new Set<string>()
    const schedule = new FaultSchedule(rng, faults, options.nodes, options.holdMs ?? HOLD_MS, options.overlap ?? 0)
    while (!options.signal?.aborted && (Date.now() - started < options.durationMs || (options.everyKind && faults.some((f) => !injected.has(f.kind))))) {
      const {fault, target, holdMs, also} = schedule.next()
      rec.fault(fault.kind, {target, holdMs})
      injected.add(fault.kind)
      const heal = await fault.inject(ctx, target)
      let healAlso: (() => Promise<void>) | undefined
      if (also) {
        rec.fault(also.fault.kind, {target: also.target, holdMs, overlapping: fault.kind})
        injected.add(also.fault.kind)
        healAlso = await also.fault.inject(ctx, also.target)
      }
      await new Promise((r) => setTimeout(r, holdMs))
      rec.event('during', {fault: fault.kind, target, seenBy: await majorityView(ctx, target)})
      if (also && healAlso) {
        await healAlso()
        rec.event('heal', {fault: also.fault.kind, target: also.target})
      }
      await heal()
      rec.event('heal', {fault: fault.kind, target})
      const tookMs = await checkSettled(ctx, settleMs)
      rec.event('settled', {after: fault.kind, target, tookMs})
    }
    // The last commits are checked once more, with the clients stopped.
    await workload?.stop()
    await checkSettled(ctx, settleMs)
  } finally {
    await workload?.stop()
    await sampler.stop()
    crashes.stop()
    if (workload) rec.workload = {...workload.counts}
    const summary = rec.summary(options.seed, options.nodes, Date.now() - started)
    rec.event('summary', {...summary})
    await lc.destroy()
    rmSync(monitorDir, {recursive: true, force: true})
  }
  return rec.summary(options.seed, options.nodes, Date.now() - started)
}
