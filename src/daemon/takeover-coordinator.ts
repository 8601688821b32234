// The leader's takeover runs (core-spec §2.10): compute the allocation, have every connected
// node release what it must give up and wait for all of them, then have the owners take their
// addresses, then run ipreallocated everywhere. A node that fails twice is banned (CTDB's
// banning credits). The consistency check starts a new run whenever what nodes really hold
// differs from the last allocation.
import type {Logger} from 'pino'
import {checkConsistency, planTakeover, type Holder} from '../cluster/takeover.js'
import type {ClusterState, TakeoverRunRecord} from '../cluster/state.js'
import type {ClusterConfig} from '../config/model.js'
import type {ControlRequest, TakeoverPhase} from '../protocol/messages.js'

export interface TakeoverDeps {
  config(): ClusterConfig
  configRevision(): number
  /** Still the leader (checked after yielding to pending I/O such as a lost lock). */
  isLeader(): boolean
  /** The leader's view: flags, interfaces, current holders. */
  view(): ClusterState
  holders(): Holder[]
  /** Sends a control to a node and resolves when it answered ok; rejects otherwise. */
  send(pnn: number, request: ControlRequest, timeoutMs: number): Promise<void>
  ban(pnn: number, seconds: number): Promise<void>
  log: Logger
  /** Told about every finished run (metrics). */
  onRunFinished?: (record: RunRecord) => void
}

export type RunRecord = TakeoverRunRecord

/** CTDB bans a node whose credits reach twice the node count; a failed run here gives the node `nodes` credits. */
const BAN_CREDITS_FACTOR = 2

export class TakeoverCoordinator {
  private runNumber = 0
  private running?: Promise<RunRecord>
  private next?: {reasons: string[]; promise: Promise<RunRecord>; resolve: (r: RunRecord) => void}
  private lastAssignment = new Map<string, number>()
  private lastFinished = 0
  private readonly overrides = new Map<string, number>()
  private readonly credits = new Map<number, number>()
  last?: RunRecord

  constructor(private readonly deps: TakeoverDeps) {}

  /**
   * Starts a run now, or — while one is in flight — one more right after it, shared by every
   * request made meanwhile. Resolves with the run that covers the request.
   */
  requestRun(reason: string): Promise<RunRecord> {
    if (!this.running) return this.startRun(reason)
    if (!this.next) {
      let resolve!: (r: RunRecord) => void
      const promise = new Promise<RunRecord>((r) => (resolve = r))
      this.next = {reasons: [], promise, resolve}
    }
    if (!this.next.reasons.includes(reason)) this.next.reasons.push(reason)
    return this.next.promise
  }

  private startRun(reason: string): Promise<RunRecord> {
    const running = this.run(reason).finally(() => {
      this.running = undefined
      const next = this.next
      this.next = undefined
      if (next) void this.startRun(next.reasons.join('; ')).then(next.resolve)
    })
    this.running = running
    return running
  }

  /** `ip move`: pin the address to the node for the next run. */
  moveIp(address: string, pnn: number): Promise<RunRecord> {
    this.overrides.set(address, pnn)
    return this.requestRun(`move ${address} to node ${pnn}`)
  }

  /** Leader tick: consistency check (not while a run is in flight or just after one). */
  check(): void {
    if (this.running || Date.now() - this.lastFinished < 1000) return
    const problems = checkConsistency(this.deps.config(), this.deps.view(), this.deps.holders(), this.lastAssignment)
    if (problems.length > 0) void this.requestRun(`consistency check: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`)
  }

  /** The node the last run assigned the address to. */
  assignedTo(address: string): number | undefined {
    return this.lastAssignment.get(address)
  }

  /** A new leader starts from nothing. */
  reset(): void {
    this.lastAssignment = new Map()
    this.credits.clear()
  }

  private async run(reason: string): Promise<RunRecord> {
    // Let pending I/O in first (a lock helper's EOF, heartbeats): act on a fresh view only.
    await new Promise((r) => setImmediate(r))
    const run = ++this.runNumber
    const started = Date.now()
    const {log} = this.deps
    if (!this.deps.isLeader()) {
      const record = {run, reason, startedAt: new Date(started).toISOString(), durationMs: 0, ok: false, error: 'no longer the leader'}
      log.warn({run, reason}, 'takeover run abandoned: no longer the leader')
      return record
    }
    const config = this.deps.config()
    const view = this.deps.view()
    const plan = planTakeover(config, view, this.overrides)
    this.overrides.clear()
    const connected = view.nodes.filter((n) => !n.flags.includes('DISCONNECTED') && !n.flags.includes('DELETED')).map((n) => n.pnn)
    const revision = this.deps.configRevision()
    log.info({run, reason, nodes: connected}, 'takeover run started')
    const timeoutMs = config.tunables.takeoverTimeoutMs
    const failed = new Set<number>()
    const phase = async (name: TakeoverPhase) => {
      await Promise.all(
        connected.map(async (pnn) => {
          const request: ControlRequest = {v: 1, op: 'takeover', run, phase: name, ...(name === 'ipreallocated' ? {} : {addresses: plan.holdings.get(pnn) ?? []}), configRevision: revision}
          try {
            await this.deps.send(pnn, request, timeoutMs)
          } catch (e) {
            failed.add(pnn)
            log.warn({run, pnn, phase: name, err: (e as Error).message}, `node ${pnn} failed the ${name} phase`)
          }
        }),
      )
    }
    let record: RunRecord
    try {
      await phase('release')
      await phase('take')
      await phase('ipreallocated')
      this.lastAssignment = plan.assignment
      const ok = failed.size === 0
      record = {run, reason, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, ok, ...(ok ? {} : {error: `failed on node ${[...failed].join(', ')}`})}
    } catch (e) {
      record = {run, reason, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, ok: false, error: (e as Error).message}
    }
    await this.assignCredits(failed, view.nodes.length)
    this.last = record
    this.deps.onRunFinished?.(record)
    this.lastFinished = Date.now()
    log.info({run, ok: record.ok, durationMs: record.durationMs, assignment: Object.fromEntries(plan.assignment)}, 'takeover run finished')
    return record
  }

  private async assignCredits(failed: Set<number>, nodes: number): Promise<void> {
    if (failed.size === 0) {
      this.credits.clear()
      return
    }
    for (const pnn of failed) {
      const credits = (this.credits.get(pnn) ?? 0) + nodes
      if (credits >= BAN_CREDITS_FACTOR * nodes) {
        this.credits.delete(pnn)
        const seconds = Math.round(this.deps.config().tunables.banPeriodMs / 1000)
        this.deps.log.warn({pnn, seconds}, `banning node ${pnn}: it failed takeover runs repeatedly`)
        await this.deps.ban(pnn, seconds).catch((e: Error) => this.deps.log.error({pnn, err: e.message}, 'could not ban the node'))
      } else {
        this.credits.set(pnn, credits)
      }
    }
  }
}
