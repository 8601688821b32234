// The node's events (core-spec §6): init/setup/startup/shutdown around the daemon's life,
// takeip/releaseip/updateip from the IP reconciler, ipreallocated after takeover runs,
// startrecovery/recovered around generation changes, the periodic monitor of the event scripts
// and of each declared service, and the UNHEALTHY flag that follows from them. Events run one at
// a time; a new event cancels a running monitor. Nothing here blocks the heartbeat loop.
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import type {Logger} from 'pino'
import type {ClusterConfig} from '../config/model.js'
import {eventEnv, scriptVarDir} from '../events/env.js'
import {runEvent} from '../events/executor.js'
import {HealthTracker, type MonitorUnit} from '../events/health.js'
import {checkEvent, eventStatus, type EventName, type EventResult, type RunResult} from '../events/model.js'
import {setScriptEnabled} from '../events/scripts.js'
import {ServiceUnit} from '../events/services.js'
import type {ControlRequest} from '../protocol/messages.js'
import type {IpEvent, IpMoveEvent} from '../reconciler/ip/reconciler.js'

const SCRIPTS_UNIT = 'scripts'
const STARTUP_RETRY_MS = 5000

export interface EventServiceOptions {
  config: ClusterConfig
  pnn: number
  nodeName: string
  dataDir: string
  logger: Logger
  setUnhealthy: (unhealthy: boolean) => void
  /** Every finished monitor of a script set or service (metrics). */
  onMonitorResult?: (unit: string, ok: boolean) => void
  /** Monitors are skipped while the node is banned or stopped, as CTDB. */
  isActive: () => boolean
}

export type EventControlReply = {changed: boolean; message?: string; events?: EventResult[]} | {error: string}

export class EventService {
  private config: ClusterConfig
  private services: ServiceUnit[] = []
  private readonly health = new HealthTracker()
  private readonly log: Logger
  private queue: Promise<unknown> = Promise.resolve()
  private queued = 0
  private monitorAbort?: AbortController
  private readonly last = new Map<string, EventResult>()
  private readonly serviceChecks = new Map<string, RunResult>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private monitoring = false
  private stopped = false
  private unhealthy?: boolean
  /** The flag is only touched once the daemon runs (startup), never from the constructor. */
  private ready = false

  constructor(private readonly options: EventServiceOptions) {
    this.log = options.logger.child({component: 'events'})
    this.config = options.config
    mkdirSync(scriptVarDir(options.dataDir), {recursive: true, mode: 0o755})
    this.applyConfig(options.config)
  }

  /** init then setup; a failure stops the daemon from starting, as CTDB. */
  async init(): Promise<void> {
    for (const event of ['init', 'setup'] as const) {
      const r = await this.run(event, [])
      if (r.status !== 'OK') throw new Error(`the ${event} event failed: ${summary(r)}`)
    }
  }

  /**
   * startup, retried every 5 s until it passes; monitoring starts after it. From here the node
   * is UNHEALTHY until every monitored unit passed once (healthy at once when there are none).
   */
  startup(): void {
    this.ready = true
    this.updateHealth()
    const attempt = async (): Promise<void> => {
      if (this.stopped) return
      const r = await this.run('startup', [])
      if (this.stopped) return
      if (r.status !== 'OK') {
        this.log.error({result: summary(r)}, 'startup event failed; retrying in 5 s')
        this.setTimer('startup', attempt, STARTUP_RETRY_MS)
        return
      }
      this.monitoring = true
      this.scheduleMonitors()
    }
    void attempt()
  }

  /** Stops monitoring and runs the shutdown event (after the addresses were released). */
  async shutdown(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
    this.monitorAbort?.abort()
    const r = await this.run('shutdown', [])
    if (r.status !== 'OK') this.log.error({result: summary(r)}, 'shutdown event failed')
  }

  setConfig(config: ClusterConfig): void {
    const before = JSON.stringify([this.config.services, this.config.eventScripts, this.config.tunables.monitorIntervalMs])
    this.config = config
    if (before === JSON.stringify([config.services, config.eventScripts, config.tunables.monitorIntervalMs])) return
    this.applyConfig(config)
    if (this.monitoring && !this.stopped) this.scheduleMonitors()
  }

  // ---- hooks ---------------------------------------------------------------------------------

  taken(e: IpEvent): void {
    this.background('takeip', [e.interface, e.address, String(e.prefixLength)])
  }

  released(e: IpEvent): void {
    this.background('releaseip', [e.interface, e.address, String(e.prefixLength)])
  }

  moved(e: IpMoveEvent): void {
    this.background('updateip', [e.from, e.interface, e.address, String(e.prefixLength)])
  }

  /** First stage of a takeover run, before any address is released. */
  startipreallocate(): void {
    this.background('startipreallocate', [])
  }

  ipreallocated(): void {
    this.background('ipreallocated', [])
  }

  /** For database recovery: `startrecovery` before it, `recovered` after it. */
  recovery(phase: 'startrecovery' | 'recovered'): Promise<EventResult> {
    return this.run(phase, [])
  }

  /** Until database recovery calls recovery() itself: both events around each generation change. */
  generationChanged(): void {
    this.background('startrecovery', [])
    this.background('recovered', [])
  }

  // ---- controls ------------------------------------------------------------------------------

  async control(req: ControlRequest): Promise<EventControlReply> {
    switch (req.op) {
      case 'event-status': {
        const r = this.status(req.event ?? 'monitor')
        return {changed: false, events: r ? [r] : []}
      }
      case 'event-run': {
        const why = checkEvent(req.event ?? '', req.args ?? [])
        if (why) return {error: why}
        return {changed: true, events: [await this.run(req.event as EventName, req.args ?? [])]}
      }
      case 'event-script': {
        const changed = setScriptEnabled(this.config.eventScripts, req.script ?? '', req.enable === true)
        return changed ? {changed} : {changed, message: `Script ${req.script} is already ${req.enable ? 'enabled' : 'disabled'}`}
      }
      default:
        return {error: `not an event control: ${req.op}`}
    }
  }

  /** The last result of an event; for monitor, the scripts' last monitor plus each service's last check. */
  status(event: string): EventResult | undefined {
    const r = this.last.get(event)
    if (event !== 'monitor') return r
    const checks = this.services.map((u) => this.serviceChecks.get(u.label)).filter((c): c is RunResult => c !== undefined)
    if (!r && checks.length === 0) return undefined
    const scripts = r?.results.filter((x) => !x.name.startsWith('service:')) ?? []
    const results = [...scripts, ...checks]
    const startedAt = Math.min(...results.map((x) => x.startedAt ?? Date.now()))
    return {event: 'monitor', args: [], status: eventStatus(results), startedAt, durationMs: r?.durationMs ?? 0, results}
  }

  // ---- running events ------------------------------------------------------------------------

  /** Queues an event; a running monitor of the scripts is cancelled (CTDB's rule). */
  run(event: EventName, args: string[]): Promise<EventResult> {
    if (this.stopped && event !== 'shutdown') return Promise.resolve({event, args, status: 'CANCELLED', startedAt: Date.now(), durationMs: 0, results: []})
    this.monitorAbort?.abort()
    this.queued++
    const p = this.queue.then(() => {
      this.queued--
      return this.execute(event, args, this.services)
    })
    this.queue = p.catch(() => undefined)
    return p
  }

  private background(event: EventName, args: string[]): void {
    void this.run(event, args).then((r) => {
      if (r.status !== 'OK') this.log.error({event, args, result: summary(r)}, `event ${event} failed`)
    })
  }

  private async execute(event: EventName, args: string[], services: readonly ServiceUnit[], signal?: AbortSignal): Promise<EventResult> {
    const r = await runEvent({
      event, args, services, signal,
      ...(this.config.eventScripts ? {scriptDir: this.config.eventScripts} : {}),
      env: this.env(),
      timeoutMs: this.config.tunables.eventScriptTimeoutMs,
    })
    if (r.status !== 'CANCELLED') this.last.set(event, r)
    this.log.debug({event, args, status: r.status, ms: r.durationMs}, `event ${event} ran`)
    return r
  }

  private env(): Record<string, string> {
    const o = this.options
    return eventEnv({cluster: this.config.name, nodeName: o.nodeName, pnn: o.pnn, dataDir: o.dataDir, ...(this.config.eventScripts ? {scriptDir: this.config.eventScripts} : {})})
  }

  // ---- monitoring ----------------------------------------------------------------------------

  private applyConfig(config: ClusterConfig): void {
    const old = new Map(this.services.map((u) => [JSON.stringify(u.config), u]))
    const env = () => this.env()
    this.services = config.services.map((s) => old.get(JSON.stringify(s)) ?? new ServiceUnit(s, {env, stateDir: join(scriptVarDir(this.options.dataDir), 'service', s.name)}))
    for (const label of this.serviceChecks.keys()) if (!this.services.some((u) => u.label === label)) this.serviceChecks.delete(label)
    const units: MonitorUnit[] = [
      ...(config.eventScripts ? [{name: SCRIPTS_UNIT, failures: 1}] : []),
      ...this.services.filter((u) => u.monitored).map((u) => ({name: u.label, failures: u.config.monitor?.failures ?? 1})),
    ]
    this.health.setUnits(units)
    this.updateHealth()
  }

  private scheduleMonitors(): void {
    for (const [name, t] of this.timers) if (name !== 'startup') clearTimeout(t)
    if (this.config.eventScripts) this.setTimer(SCRIPTS_UNIT, () => this.monitorScripts(), 0)
    for (const unit of this.services) if (unit.monitored) this.setTimer(unit.label, () => this.monitorService(unit), 0)
  }

  private setTimer(name: string, fn: () => Promise<void>, delayMs: number): void {
    clearTimeout(this.timers.get(name))
    this.timers.set(name, setTimeout(() => void fn().catch((e: Error) => this.log.error({err: e}, `${name} monitor failed to run`)), delayMs))
  }

  private async monitorScripts(): Promise<void> {
    // A monitor does not wait behind other events: it is skipped (CTDB cancels it).
    if (this.options.isActive() && this.queued === 0) {
      const ac = new AbortController()
      this.monitorAbort = ac
      this.queued++
      const p = this.queue.then(() => {
        this.queued--
        return ac.signal.aborted ? undefined : this.execute('monitor', [], [], ac.signal)
      })
      this.queue = p.catch(() => undefined)
      const r = await p
      if (r && !this.stopped) this.record(SCRIPTS_UNIT, r.status === 'OK' ? 'ok' : r.status === 'CANCELLED' ? 'cancelled' : 'failed', r)
    }
    if (!this.stopped && this.config.eventScripts) this.setTimer(SCRIPTS_UNIT, () => this.monitorScripts(), this.config.tunables.monitorIntervalMs)
  }

  private async monitorService(unit: ServiceUnit): Promise<void> {
    const m = unit.config.monitor
    if (this.options.isActive()) {
      const r = await unit.monitor(m?.timeoutMs ?? this.config.tunables.eventScriptTimeoutMs)
      if (this.stopped || !this.services.includes(unit)) return // replaced by a config change meanwhile
      this.serviceChecks.set(unit.label, r)
      this.record(unit.label, r.status === 'OK' ? 'ok' : 'failed', r)
    }
    if (!this.stopped) this.setTimer(unit.label, () => this.monitorService(unit), m?.intervalMs ?? this.config.tunables.monitorIntervalMs)
  }

  private record(unit: string, outcome: 'ok' | 'failed' | 'cancelled', r: RunResult | EventResult): void {
    const wasHealthy = this.health.unitHealthy(unit)
    this.health.record(unit, outcome)
    if (outcome !== 'cancelled') this.options.onMonitorResult?.(unit, outcome === 'ok')
    if (outcome === 'failed') this.log[wasHealthy && this.health.unitHealthy(unit) ? 'warn' : 'error']({unit, result: summary(r)}, `monitor of ${unit} failed`)
    this.updateHealth()
  }

  private updateHealth(): void {
    if (!this.ready) return
    const unhealthy = !this.health.healthy()
    if (unhealthy === this.unhealthy) return
    this.unhealthy = unhealthy
    if (unhealthy) this.log.warn({units: this.health.unhealthyUnits()}, 'node is UNHEALTHY')
    else this.log.info('node is healthy')
    this.options.setUnhealthy(unhealthy)
  }
}

function summary(r: EventResult | RunResult): string {
  const runs = 'results' in r ? r.results : [r]
  const bad = runs.find((x) => x.status !== 'OK' && x.status !== 'DISABLED')
  if (!bad) return r.status
  return `${bad.name} ${bad.status}${bad.code ? ` (exit ${bad.code})` : ''}${bad.error ? `: ${bad.error}` : ''}${bad.output ? `: ${bad.output.trim().slice(0, 500)}` : ''}`
}
