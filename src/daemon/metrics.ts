// The daemon's Prometheus metrics: one prom-client Registry per daemon (never the global one).
// State gauges are read from the daemon's view at scrape time, so they always match `status`;
// events (takeover runs, reconnects, recoveries, monitor results, database ops) are counted as
// they happen through the record* methods.
import {Counter, Gauge, Histogram, Registry} from 'prom-client'
import type {NatsConnection} from '@nats-io/transport-node'
import {NODE_FLAG_NAMES, type ClusterState, type TakeoverRunRecord} from '../cluster/state.js'

export interface MetricsSource {
  /** This node's view of the cluster. */
  view(): ClusterState
  /** Addresses this node holds. */
  held(): string[]
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export class DaemonMetrics {
  readonly registry = new Registry()
  private readonly takeoverRuns: Counter<'result'>
  private readonly takeoverDuration: Histogram
  private readonly reconnects: Counter
  private readonly recoveries: Counter<'result'>
  private readonly recoveryDuration: Histogram
  private readonly monitorResults: Counter<'check' | 'result'>
  private readonly dbOps: Counter<'db' | 'op' | 'result'>
  private readonly dbOpCounters = new Map<string, {inc(): void}>()

  constructor(source: MetricsSource, labels: {cluster: string; node: string; pnn: number}) {
    const registers = [this.registry]
    this.registry.setDefaultLabels({cluster: labels.cluster, node: labels.node, pnn: String(labels.pnn)})
    new Gauge({
      name: 'ctdbctl_node_flag',
      help: 'Node flags as this node sees them: 1 when node_pnn has the flag.',
      labelNames: ['node_pnn', 'flag'],
      registers,
      collect() {
        this.reset()
        for (const n of source.view().nodes) for (const flag of NODE_FLAG_NAMES) this.set({node_pnn: String(n.pnn), flag}, n.flags.includes(flag) ? 1 : 0)
      },
    })
    new Gauge({name: 'ctdbctl_leader_pnn', help: 'pnn of the leader this node follows (-1: none).', registers, collect() {
      this.set(source.view().leader ?? -1)
    }})
    new Gauge({name: 'ctdbctl_is_leader', help: '1 when this node is the leader.', registers, collect() {
      const v = source.view()
      this.set(v.leader !== undefined && v.leader === v.thisNode ? 1 : 0)
    }})
    new Gauge({name: 'ctdbctl_generation', help: 'Current generation (1: invalid).', registers, collect() {
      this.set(source.view().generation ?? 1)
    }})
    new Gauge({name: 'ctdbctl_config_revision', help: 'Config revision this node runs (0: none yet).', registers, collect() {
      this.set(source.view().configRevision ?? 0)
    }})
    new Gauge({name: 'ctdbctl_addresses_held', help: 'Public addresses this node holds.', registers, collect() {
      this.set(source.held().length)
    }})
    new Gauge({name: 'ctdbctl_address_holder', help: 'Holder pnn of each public address as this node sees it (-1: nobody).', labelNames: ['address'], registers, collect() {
      this.reset()
      for (const a of source.view().publicAddresses) this.set({address: a.address}, a.pnn)
    }})
    this.takeoverRuns = new Counter({name: 'ctdbctl_takeover_runs_total', help: 'Takeover runs this node led, by result.', labelNames: ['result'], registers})
    this.takeoverDuration = new Histogram({name: 'ctdbctl_takeover_run_duration_seconds', help: 'Duration of the takeover runs this node led.', buckets: DURATION_BUCKETS, registers})
    this.reconnects = new Counter({name: 'ctdbctl_nats_reconnects_total', help: 'Reconnections to NATS.', registers})
    this.recoveries = new Counter({name: 'ctdbctl_recoveries_total', help: 'Database recoveries this node led, by result.', labelNames: ['result'], registers})
    this.recoveryDuration = new Histogram({name: 'ctdbctl_recovery_duration_seconds', help: 'Duration of the database recoveries this node led.', buckets: DURATION_BUCKETS, registers})
    this.monitorResults = new Counter({name: 'ctdbctl_monitor_results_total', help: 'Monitor (health check) results, by check and result.', labelNames: ['check', 'result'], registers})
    this.dbOps = new Counter({name: 'ctdbctl_db_ops_total', help: 'Database operations, by database, operation and result.', labelNames: ['db', 'op', 'result'], registers})
    for (const result of ['ok', 'failed']) this.takeoverRuns.inc({result}, 0)
  }

  recordTakeoverRun(run: TakeoverRunRecord): void {
    this.takeoverRuns.inc({result: run.ok ? 'ok' : 'failed'})
    this.takeoverDuration.observe(run.durationMs / 1000)
  }

  recordRecovery(durationMs: number, ok: boolean): void {
    this.recoveries.inc({result: ok ? 'ok' : 'failed'})
    this.recoveryDuration.observe(durationMs / 1000)
  }

  recordMonitorResult(check: string, ok: boolean): void {
    this.monitorResults.inc({check, result: ok ? 'ok' : 'failed'})
  }

  /** Called for every client request: the labelled counters are looked up once, not hashed per call. */
  recordDbOp(db: string, op: string, ok: boolean): void {
    const result = ok ? 'ok' : 'failed'
    const key = `${db}\0${op}\0${result}`
    let counter = this.dbOpCounters.get(key)
    if (!counter) this.dbOpCounters.set(key, (counter = this.dbOps.labels({db, op, result})))
    counter.inc()
  }

  /** Counts reconnections of the connection until it closes. */
  watchNats(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'reconnect') this.reconnects.inc()
    })()
  }
}
