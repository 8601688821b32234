// The metrics registry on its own: gauges read the view at scrape time, and the record* hooks
// (takeover runs, recoveries, monitor results, database ops) count what they are told.
import type {ClusterState} from '../../src/cluster/state.js'
import {DaemonMetrics} from '../../src/daemon/metrics.js'

const view: ClusterState = {
  cluster: 'c',
  configRevision: 5,
  generation: 77,
  leader: 1,
  thisNode: 1,
  nodes: [
    {pnn: 0, flags: ['DISCONNECTED', 'UNHEALTHY']},
    {pnn: 1, flags: []},
  ],
  publicAddresses: [
    {address: '10.0.0.1', pnn: 1},
    {address: '10.0.0.2', pnn: -1},
  ],
}

async function text(m: DaemonMetrics): Promise<string> {
  return m.registry.metrics()
}

test('state gauges follow the view at every scrape', async () => {
  let current = view
  const m = new DaemonMetrics({view: () => current, held: () => current.publicAddresses.filter((a) => a.pnn === 1).map((a) => a.address)}, {cluster: 'c', node: 'n1', pnn: 1})
  let t = await text(m)
  expect(t).toContain('ctdbctl_is_leader{cluster="c",node="n1",pnn="1"} 1')
  expect(t).toContain('ctdbctl_generation{cluster="c",node="n1",pnn="1"} 77')
  expect(t).toContain('ctdbctl_node_flag{node_pnn="0",flag="DISCONNECTED",cluster="c",node="n1",pnn="1"} 1')
  expect(t).toContain('ctdbctl_node_flag{node_pnn="0",flag="BANNED",cluster="c",node="n1",pnn="1"} 0')
  expect(t).toContain('ctdbctl_address_holder{address="10.0.0.2",cluster="c",node="n1",pnn="1"} -1')
  expect(t).toContain('ctdbctl_addresses_held{cluster="c",node="n1",pnn="1"} 1')
  current = {...view, leader: 0, publicAddresses: [{address: '10.0.0.1', pnn: 0}]}
  t = await text(m)
  expect(t).toContain('ctdbctl_is_leader{cluster="c",node="n1",pnn="1"} 0')
  expect(t).toContain('ctdbctl_addresses_held{cluster="c",node="n1",pnn="1"} 0')
  expect(t).not.toContain('10.0.0.2') // an address gone from the config is gone from the metrics
})

test('the record hooks count runs, recoveries, monitor results and database ops', async () => {
  const m = new DaemonMetrics({view: () => view, held: () => []}, {cluster: 'c', node: 'n1', pnn: 1})
  m.recordTakeoverRun({run: 1, reason: 'x', startedAt: '', durationMs: 30, ok: true})
  m.recordTakeoverRun({run: 2, reason: 'x', startedAt: '', durationMs: 3000, ok: false, error: 'e'})
  m.recordRecovery(120, true)
  m.recordMonitorResult('smbd', false)
  m.recordDbOp('locking', 'put', true)
  const t = await text(m)
  expect(t).toContain('ctdbctl_takeover_runs_total{result="ok",cluster="c",node="n1",pnn="1"} 1')
  expect(t).toContain('ctdbctl_takeover_runs_total{result="failed",cluster="c",node="n1",pnn="1"} 1')
  expect(t).toContain('ctdbctl_takeover_run_duration_seconds_sum{cluster="c",node="n1",pnn="1"} 3.03')
  expect(t).toContain('ctdbctl_takeover_run_duration_seconds_bucket{le="0.05",cluster="c",node="n1",pnn="1"} 1')
  expect(t).toContain('ctdbctl_recoveries_total{result="ok",cluster="c",node="n1",pnn="1"} 1')
  expect(t).toContain('ctdbctl_recovery_duration_seconds_count{cluster="c",node="n1",pnn="1"} 1')
  expect(t).toContain('ctdbctl_monitor_results_total{check="smbd",result="failed",cluster="c",node="n1",pnn="1"} 1')
  expect(t).toContain('ctdbctl_db_ops_total{db="locking",op="put",result="ok",cluster="c",node="n1",pnn="1"} 1')
})
