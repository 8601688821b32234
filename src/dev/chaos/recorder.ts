// The record of a chaos run: every fault and check goes to a JSON-lines log (timestamped, so a
// failing sequence can be read back and replayed with its seed) and into the summary counters.
import {appendFileSync} from 'node:fs'

export interface Violation {
  t: string
  invariant: string
  detail: string
}

export interface ChaosSummary {
  seed: number
  nodes: number
  durationMs: number
  faults: Record<string, number>
  checks: Record<string, number>
  violations: Violation[]
  metricsScrapes: {ok: number; failed: number}
  /** Database client operations, when clients ran. */
  workload?: {commits: number; volatileUpdates: number; revertsAfterNodeLoss: number; failedOps: number}
  log: string
}

export class Recorder {
  readonly faults: Record<string, number> = {}
  readonly checks: Record<string, number> = {}
  readonly violations: Violation[] = []
  readonly metricsScrapes = {ok: 0, failed: 0}
  workload?: ChaosSummary['workload']

  constructor(readonly logFile: string, private readonly echo: (line: string) => void = () => undefined) {}

  event(kind: string, fields: Record<string, unknown> = {}): void {
    const line = JSON.stringify({t: new Date().toISOString(), kind, ...fields})
    appendFileSync(this.logFile, line + '\n')
    this.echo(line)
  }

  fault(kind: string, fields: Record<string, unknown>): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1
    this.event('fault', {fault: kind, ...fields})
  }

  check(name: string, ok: boolean, detail?: string): void {
    this.checks[name] = (this.checks[name] ?? 0) + 1
    if (ok) return
    const v = {t: new Date().toISOString(), invariant: name, detail: detail ?? ''}
    this.violations.push(v)
    this.event('violation', {invariant: name, detail: v.detail})
  }

  summary(seed: number, nodes: number, durationMs: number): ChaosSummary {
    return {seed, nodes, durationMs, faults: {...this.faults}, checks: {...this.checks}, violations: [...this.violations], metricsScrapes: {...this.metricsScrapes}, ...(this.workload ? {workload: {...this.workload}} : {}), log: this.logFile}
  }
}

/** The human table printed after the JSON line. */
export function formatSummary(s: ChaosSummary): string {
  const rows: [string, string][] = [
    ['seed', String(s.seed)],
    ['nodes', String(s.nodes)],
    ['duration', `${(s.durationMs / 1000).toFixed(0)} s`],
    ...Object.entries(s.faults).sort().map(([k, v]): [string, string] => [`fault ${k}`, String(v)]),
    ...Object.entries(s.checks).sort().map(([k, v]): [string, string] => [`check ${k}`, String(v)]),
    ['metrics scrapes ok/failed', `${s.metricsScrapes.ok}/${s.metricsScrapes.failed}`],
    ...(s.workload ? [['db commits / volatile updates / reverts after node loss / failed ops', `${s.workload.commits} / ${s.workload.volatileUpdates} / ${s.workload.revertsAfterNodeLoss} / ${s.workload.failedOps}`] as [string, string]] : []),
    ['violations', String(s.violations.length)],
    ['log', s.log],
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)
  for (const v of s.violations) lines.push(`VIOLATION ${v.t} ${v.invariant}: ${v.detail}`)
  return lines.join('\n')
}
