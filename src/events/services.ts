// A declared service's part in events: its start/stop commands, its monitor command and, for
// an nfsCallout service, the CTDB_NFS_CALLOUT ops 60.nfs would run.
import {statSync} from 'node:fs'
import {join} from 'node:path'
import type {ServiceConfig} from '../config/model.js'
import {calloutSteps, parseRegistered, sharesToCheck} from './nfs-callout.js'
import type {RunResult} from './model.js'
import {runProgram} from './runner.js'

export interface ServiceContext {
  env: () => Record<string, string>
  /** Where the service's state lives (CTDB: $CTDB_SCRIPT_VARDIR/service/NAME). */
  stateDir: string
}

interface Step {
  file: string
  args: string[]
  listsShares?: boolean
}

export class ServiceUnit {
  private registered?: Set<string>

  constructor(
    readonly config: ServiceConfig,
    private readonly context: ServiceContext,
  ) {}

  get label(): string {
    return `service:${this.config.name}`
  }

  /** Has something to check in the monitor loop. */
  get monitored(): boolean {
    return this.config.monitor !== undefined || this.config.nfsCallout !== undefined
  }

  /** Runs the service's part in an event; undefined when it has none. */
  async event(event: string, args: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<RunResult | undefined> {
    if (event === 'monitor') return this.monitored ? this.monitor(timeoutMs, signal) : undefined
    const callout = await this.calloutSteps(event, args, timeoutMs)
    if (!Array.isArray(callout)) return callout
    const steps: Step[] = []
    if (event === 'startup' && this.config.start) steps.push(argvStep(this.config.start))
    steps.push(...callout)
    if (event === 'shutdown' && this.config.stop) steps.push(argvStep(this.config.stop))
    if (steps.length === 0) return undefined
    return this.run(steps, timeoutMs, signal)
  }

  /** One monitor check: the callout's monitor ops, then the monitor command. */
  async monitor(timeoutMs: number, signal?: AbortSignal): Promise<RunResult> {
    const steps = await this.calloutSteps('monitor', [], timeoutMs)
    if (!Array.isArray(steps)) return steps
    if (this.config.monitor) steps.push(argvStep(this.config.monitor.command))
    return this.run(steps, timeoutMs, signal)
  }

  private env(): Record<string, string> {
    if (!this.config.nfsCallout) return this.context.env()
    return {...this.context.env(), CTDB_NFS_CALLOUT: this.config.nfsCallout, CTDB_NFS_CALLOUT_STATE_DIR: join(this.context.stateDir, 'callout-state')}
  }

  /** The callout's steps for an event, or the failed `register` run. */
  private async calloutSteps(event: string, args: readonly string[], timeoutMs: number): Promise<Step[] | RunResult> {
    const callout = this.config.nfsCallout
    if (!callout) return []
    // As 60.nfs: the callout registers its ops once (exit status ignored); a new unit (config change) registers again.
    if (!this.registered) {
      const r = await runProgram(callout, ['register'], {name: this.label, env: this.env(), timeoutMs})
      if (r.status === 'CANNOT RUN' || r.status === 'TIMEDOUT') return {...r, output: `[register] ${r.output ?? ''}${r.error ?? ''}`}
      this.registered = parseRegistered(r.output ?? '')
    }
    return calloutSteps(event, args, this.registered).map((s) => ({file: callout, args: [s.op, ...s.args], ...(s.listsShares ? {listsShares: true} : {})}))
  }

  /** Steps in order under one deadline; the first failure ends the run and is the result. */
  private async run(steps: Step[], timeoutMs: number, signal?: AbortSignal): Promise<RunResult> {
    const startedAt = Date.now()
    const t0 = performance.now()
    const outputs: string[] = []
    const result = (r: Partial<RunResult> & Pick<RunResult, 'status'>): RunResult => ({
      name: this.label,
      startedAt,
      durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
      ...r,
      output: [...outputs, r.output ?? ''].filter((o) => o.length > 0).join(''),
    })
    for (const step of steps) {
      const left = timeoutMs - (performance.now() - t0)
      if (left <= 0) return result({status: 'TIMEDOUT'})
      const r = await runProgram(step.file, step.args, {name: this.label, env: this.env(), timeoutMs: left, ...(signal ? {signal} : {})})
      if (r.status !== 'OK') {
        const op = step.file === this.config.nfsCallout ? `[${step.args[0]}] ` : ''
        return result({...r, output: `${op}${r.output ?? ''}${r.error ?? ''}`})
      }
      if (step.listsShares) {
        const missing = sharesToCheck(r.output ?? '').find((d) => !isDirectory(d))
        if (missing) return result({status: 'ERROR', code: 1, output: `ERROR: nfs directory "${missing}" not available\n`})
      } else if (r.output) {
        outputs.push(r.output)
      }
    }
    return result({status: 'OK', code: 0})
  }
}

function argvStep(argv: readonly string[]): Step {
  return {file: argv[0]!, args: argv.slice(1)}
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
