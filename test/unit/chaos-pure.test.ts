// The chaos suite's pure parts: seeded randomness that replays, the metrics text parser, the summary table.
import {judgeRsn} from '../../src/dev/chaos/checks/databases.js'
import {parseMetrics, metricValue} from '../../src/dev/chaos/checks/prometheus.js'
import {mulberry32} from '../../src/dev/chaos/prng.js'
import {FaultSchedule} from '../../src/dev/chaos/schedule.js'
import {formatSummary} from '../../src/dev/chaos/recorder.js'

test('the same seed gives the same decisions, another seed others', () => {
  const draw = (seed: number) => {
    const r = mulberry32(seed)
    return [r.shuffle(['a', 'b', 'c', 'd', 'e', 'f']).join(''), r.int(0, 2), r.int(1500, 8000), r.pick(['x', 'y', 'z'])]
  }
  expect(draw(42)).toEqual(draw(42))
  expect(draw(42)).not.toEqual(draw(43))
  const r = mulberry32(7)
  for (let i = 0; i < 1000; i++) {
    const n = r.int(2, 5)
    expect(n).toBeGreaterThanOrEqual(2)
    expect(n).toBeLessThanOrEqual(5)
  }
})

test('metrics text: samples by name and labels, comments skipped', () => {
  const text = [
    '# HELP ctdbctl_is_leader 1 when this node is the leader.',
    '# TYPE ctdbctl_is_leader gauge',
    'ctdbctl_is_leader{cluster="c",node="n0",pnn="0"} 1',
    'ctdbctl_address_holder{address="10.1.1.101",cluster="c",node="n0",pnn="0"} -1',
    'ctdbctl_address_holder{address="10.1.1.102",cluster="c",node="n0",pnn="0"} 2',
    'process_start_time_seconds 1.7e9',
  ].join('\n')
  const m = parseMetrics(text)
  expect(metricValue(m, 'ctdbctl_is_leader')).toBe(1)
  expect(metricValue(m, 'ctdbctl_address_holder', {address: '10.1.1.102'})).toBe(2)
  expect(metricValue(m, 'ctdbctl_address_holder', {address: '10.1.1.101'})).toBe(-1)
  expect(metricValue(m, 'process_start_time_seconds')).toBe(1.7e9)
  expect(metricValue(m, 'ctdbctl_leader_pnn')).toBeUndefined()
})

test('the summary table lists faults, checks and every violation', () => {
  const table = formatSummary({seed: 5, nodes: 3, durationMs: 61_000, faults: {'kill-daemon': 2}, checks: {'no-crash': 1}, violations: [{t: 'T', invariant: 'no-crash', detail: 'daemon n1 exited'}], metricsScrapes: {ok: 9, failed: 1}, log: '/tmp/x.log'})
  expect(table).toMatch(/fault kill-daemon\s+2/)
  expect(table).toMatch(/violations\s+1/)
  expect(table).toContain('VIOLATION T no-crash: daemon n1 exited')
})

test('volatile RSN: older is a violation unless the newest copy\'s node was seen inactive after it was seen', () => {
  const floor = {rsn: 28, pnn: 1, at: 1000}
  expect(judgeRsn(5, undefined, undefined)).toBe('ok')
  expect(judgeRsn(28, floor, undefined)).toBe('ok')
  expect(judgeRsn(30, floor, 2000)).toBe('ok')
  expect(judgeRsn(27, floor, undefined)).toBe('violation')
  // Inactive before the newest copy was seen does not excuse losing it.
  expect(judgeRsn(27, floor, 999)).toBe('violation')
  expect(judgeRsn(27, floor, 1000)).toBe('revert')
  expect(judgeRsn(27, floor, 5000)).toBe('revert')
})

test('fault schedule: without overlap the draws are those of earlier runs (seeds replay); with it, a second fault on another node', () => {
  const kinds = ['a', 'b', 'c']
  const plain = new FaultSchedule(mulberry32(42), kinds, 3, [1500, 8000])
  // The draw order of the runner before schedules existed: shuffle per round, target, hold.
  const rng = mulberry32(42)
  let round: string[] = []
  for (let i = 0; i < 12; i++) {
    if (round.length === 0) round = rng.shuffle(kinds)
    expect(plain.next()).toEqual({fault: round.shift(), target: rng.int(0, 2), holdMs: rng.int(1500, 8000)})
  }
  const always = new FaultSchedule(mulberry32(7), kinds, 3, [1000, 2000], 1)
  for (let i = 0; i < 30; i++) {
    const step = always.next()
    expect(step.also).toBeDefined()
    expect(step.also!.target).not.toBe(step.target)
    expect(kinds).toContain(step.also!.fault)
  }
  const some = new FaultSchedule(mulberry32(7), kinds, 5, [1000, 2000], 0.3)
  const overlapping = Array.from({length: 200}, () => some.next()).filter((s) => s.also).length
  expect(overlapping).toBeGreaterThan(30)
  expect(overlapping).toBeLessThan(90)
})
