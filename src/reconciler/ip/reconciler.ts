// Level-triggered reconciliation of this node's public addresses (issue 7, item 2): each pass
// observes the host (addresses, link states), plans with plan.ts and acts through a driver, then
// announces new addresses with CTDB's schedule (3 rounds, 1.1 s apart after a take; 1 s apart
// after a move between interfaces, as `ctdb gratarp`). Passes are serialised and idempotent;
// driver errors are logged and retried on the next pass, never thrown.
import type {Logger} from 'pino'
import type {IpFamily, PublicAddress} from '../../config/model.js'
import type {HostAddress, HostLink, IpDriver} from '../drivers/ip-driver.js'
import {canonicalAddress, managedInterfaces, planIp, type IpAction, type IpPlan, type PlannedInterface, type UnavailableAddress} from './plan.js'

export type IpLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>

/** An address taken, released or announced on one interface. */
export interface IpEvent {
  address: string
  prefixLength: number
  family: IpFamily
  interface: string
}

export interface IpMoveEvent extends IpEvent {
  /** The interface it left (`interface` is the one it is on now). */
  from: string
  reason: 'interface-down' | 'rebalance'
}

export interface AnnounceEvent extends IpEvent {
  round: number
  /** Announcing a take (CTDB's takeip) or a move between interfaces (updateip). */
  after: 'take' | 'move'
}

export interface HeldAddress extends IpEvent {
  linkUp: boolean
}

export interface ActionOutcome {
  action: IpAction
  /** Done (for a move: the address is on the new interface). */
  ok: boolean
  /** Why it failed; for a move that is ok, why the copy on the old interface stayed. */
  error?: string
}

export interface IpPassResult {
  /** The host was read and every action succeeded. */
  ok: boolean
  /** False when the host could not be read: `held` and `interfaces` are the last known. */
  observed: boolean
  /** Public addresses of the config on managed interfaces, after acting (config order). */
  held: HeldAddress[]
  /** Every managed interface: link state, present on the host, public addresses on it. */
  interfaces: PlannedInterface[]
  /** Desired addresses that cannot be placed: every interface of theirs is down. */
  unavailable: UnavailableAddress[]
  /** Public addresses on interfaces that no public address names: left alone. */
  foreign: HostAddress[]
  /** Desired addresses that are not public addresses of the config: ignored. */
  unknown: string[]
  actions: ActionOutcome[]
  /** Addresses this pass added to the node (it held them nowhere before). */
  taken: string[]
  /** Addresses this pass removed from the node (it holds them nowhere now). */
  released: string[]
  /** Addresses this pass moved from one interface to another. */
  moved: string[]
  errors: string[]
  startedAt: number
  durationMs: number
}

export interface AnnounceSchedule {
  /** Rounds per series. CTDB: 3. */
  rounds: number
  /** Between rounds after a take. CTDB: 1100 ms (1 s + 100 ms). */
  takeIntervalMs: number
  /** Between rounds after a move between interfaces (`ctdb gratarp`). CTDB: 1000 ms. */
  moveIntervalMs: number
}

type Callback<T> = (event: T) => void | Promise<void>

export interface IpReconcilerOptions {
  driver: IpDriver
  /** Every public address of the config. */
  publicAddresses: readonly PublicAddress[]
  /** Addresses to hold from the start (default none). */
  desired?: Iterable<string>
  /** Pause between the end of one loop pass and the start of the next. Default 1000 ms. */
  intervalMs?: number
  announce?: Partial<AnnounceSchedule>
  logger?: IpLogger
  /** After an address was added to this node (and its first announcement sent). Awaited. */
  onTaken?: Callback<IpEvent>
  /** After an address was removed from this node. Awaited. */
  onReleased?: Callback<IpEvent>
  /** After an address moved between interfaces of this node (CTDB's updateip). Awaited. */
  onMoved?: Callback<IpMoveEvent>
  /** After each announcement round (round 0, 1, 2): the place for tickle ACKs. Not awaited by passes. */
  onAnnounce?: Callback<AnnounceEvent>
  /** Before an address is released (removed, held nowhere after): CTDB kills its connections here. Awaited; errors are logged. */
  beforeRelease?: Callback<IpEvent>
  /** After every pass, with its result. */
  onPass?: (result: IpPassResult) => void
}

const silent: IpLogger = {debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined} as unknown as IpLogger

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e))

interface Series {
  event: IpEvent
  timer?: NodeJS.Timeout
  cancelled: boolean
}

export class IpReconciler {
  private readonly driver: IpDriver
  private publicAddresses: PublicAddress[]
  private desiredSet = new Set<string>()
  private readonly intervalMs: number
  private readonly schedule: AnnounceSchedule
  private readonly log: IpLogger
  private running?: Promise<IpPassResult>
  private queued?: Promise<IpPassResult>
  private loopTimer?: NodeJS.Timeout
  private looping = false
  private readonly series = new Map<string, Series>()
  private readonly inflight = new Set<Promise<unknown>>()
  private lastResult?: IpPassResult
  private lastWarnings = ''

  constructor(private readonly options: IpReconcilerOptions) {
    this.driver = options.driver
    this.publicAddresses = [...options.publicAddresses]
    this.intervalMs = options.intervalMs ?? 1000
    this.schedule = {rounds: 3, takeIntervalMs: 1100, moveIntervalMs: 1000, ...options.announce}
    this.log = options.logger ?? silent
    if (options.desired) this.setDesired(options.desired)
  }

  /** The addresses this node should hold from now on; applied by the next pass. */
  setDesired(addresses: Iterable<string>): void {
    this.desiredSet = new Set([...addresses].map((a) => canonicalAddress(a) ?? a))
  }

  get desired(): string[] {
    return [...this.desiredSet]
  }

  /** A new config's public addresses; applied by the next pass. */
  setPublicAddresses(publicAddresses: readonly PublicAddress[]): void {
    this.publicAddresses = [...publicAddresses]
  }

  /** The result of the last finished pass. */
  get last(): IpPassResult | undefined {
    return this.lastResult
  }

  /** Self-fencing / shutdown: hold nothing, now. */
  async releaseAll(): Promise<IpPassResult> {
    this.setDesired([])
    return this.pass()
  }

  /**
   * One observe → plan → act pass. Serialised: a call during a pass waits for it and then runs
   * one more (concurrent callers share that one). Never rejects.
   */
  pass(): Promise<IpPassResult> {
    if (!this.running) {
      const p = this.runPass().finally(() => {
        if (this.running === p) this.running = undefined
      })
      this.running = p
      return p
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined
        return this.pass()
      })
    return this.queued
  }

  /** Starts the periodic loop: a pass now, then one `intervalMs` after each pass ends. */
  start(): void {
    if (this.looping) return
    this.looping = true
    const tick = () => {
      this.loopTimer = undefined
      if (!this.looping) return
      void this.pass().finally(() => {
        if (this.looping) {
          this.loopTimer = setTimeout(tick, this.intervalMs)
          this.loopTimer.unref?.()
        }
      })
    }
    tick()
  }

  /**
   * Stops the loop and cancels pending announcement rounds; waits for the pass and sends in
   * progress. pass() still works afterwards (releaseAll() on shutdown, say).
   */
  async stop(): Promise<void> {
    this.looping = false
    if (this.loopTimer) clearTimeout(this.loopTimer)
    this.loopTimer = undefined
    for (const address of [...this.series.keys()]) this.cancelAnnouncements(address)
    await Promise.allSettled([this.running, this.queued, ...this.inflight])
  }

  /** A pass that could not observe (or failed unexpectedly): the last known state, and why. */
  private failedPass(startedAt: number, message: string, err: unknown): IpPassResult {
    this.log.error({err, driver: this.driver.name}, message)
    const result: IpPassResult = {
      ok: false,
      observed: false,
      held: this.lastResult?.held ?? [],
      interfaces: this.lastResult?.interfaces ?? [],
      unavailable: this.lastResult?.unavailable ?? [],
      foreign: this.lastResult?.foreign ?? [],
      unknown: this.lastResult?.unknown ?? [],
      actions: [],
      taken: [],
      released: [],
      moved: [],
      errors: [message],
      startedAt,
      durationMs: Date.now() - startedAt,
    }
    this.finish(result)
    return result
  }

  private async runPass(): Promise<IpPassResult> {
    const startedAt = Date.now()
    try {
      return await this.reconcile(startedAt)
    } catch (e) {
      // Not expected (drivers' errors are handled in reconcile): never let it out of the loop.
      return this.failedPass(startedAt, `IP reconciliation pass failed: ${errText(e)}`, e)
    }
  }

  private async reconcile(startedAt: number): Promise<IpPassResult> {
    const errors: string[] = []
    const managed = new Set(managedInterfaces(this.publicAddresses))

    let addresses: HostAddress[]
    let links: HostLink[]
    try {
      ;[addresses, links] = await Promise.all([this.driver.listAddresses(), this.driver.linkStates()])
    } catch (e) {
      return this.failedPass(startedAt, `cannot read the host's addresses and links: ${errText(e)}`, e)
    }

    const publicSet = new Set(this.publicAddresses.map((p) => p.address))
    const onNode = (list: HostAddress[]) => new Set(list.filter((h) => managed.has(h.interface) && publicSet.has(h.address)).map((h) => h.address))
    const before = onNode(addresses)
    const desired = new Set(this.desiredSet)
    const plan: IpPlan = planIp({publicAddresses: this.publicAddresses, desired, observed: addresses, links})

    const outcomes: ActionOutcome[] = []
    for (const action of plan.actions) {
      try {
        const leftover = await this.act(action)
        if (leftover) {
          // Moved, but the old copy stayed: announce the move; the next pass removes the copy.
          const message = `${describe(action)}: the copy on the old interface stayed: ${errText(leftover)}`
          errors.push(message)
          outcomes.push({action, ok: true, error: errText(leftover)})
          this.log.warn({err: leftover, address: action.address}, `${message}; retrying on the next pass`)
          continue
        }
        outcomes.push({action, ok: true})
        this.log.info({action: action.kind, address: action.address, reason: action.reason, ...(action.kind === 'move' ? {from: action.from, to: action.to} : {interface: action.interface})}, `${action.kind} ${action.address}/${action.prefixLength} ${action.kind === 'move' ? `${action.from} -> ${action.to}` : action.interface} (${action.reason})`)
      } catch (e) {
        const message = `${describe(action)} failed: ${errText(e)}`
        errors.push(message)
        outcomes.push({action, ok: false, error: errText(e)})
        this.log.warn({err: e, action: action.kind, address: action.address, reason: action.reason}, `${message}; retrying on the next pass`)
      }
    }

    let after = addresses
    if (plan.actions.length > 0) {
      try {
        after = await this.driver.listAddresses()
      } catch (e) {
        after = simulate(addresses, outcomes)
        errors.push(`cannot re-read the host's addresses: ${errText(e)}`)
      }
    }
    const upOf = new Map(links.map((l) => [l.name, l.up]))
    const held: HeldAddress[] = []
    const order = new Map(this.publicAddresses.map((p, i) => [p.address, i]))
    for (const h of after) {
      if (!managed.has(h.interface) || !publicSet.has(h.address)) continue
      held.push({address: h.address, prefixLength: h.prefixLength, family: h.family, interface: h.interface, linkUp: upOf.get(h.interface) === true})
    }
    held.sort((x, y) => order.get(x.address)! - order.get(y.address)! || x.interface.localeCompare(y.interface))
    const nowOn = onNode(after)
    const refs = new Map<string, number>()
    for (const h of held) refs.set(h.interface, (refs.get(h.interface) ?? 0) + 1)

    const succeeded = <K extends IpAction['kind']>(kind: K) => outcomes.filter((o) => o.ok && o.action.kind === kind).map((o) => o.action as Extract<IpAction, {kind: K}>)
    const addedOk = succeeded('add')
    const movedOk = succeeded('move')
    const removedOk = succeeded('remove')
    const taken = addedOk.filter((a) => !before.has(a.address) && nowOn.has(a.address))
    const released = removedOk.filter((a, i, all) => a.reason === 'release' && !nowOn.has(a.address) && all.findIndex((b) => b.address === a.address) === i)

    const result: IpPassResult = {
      ok: errors.length === 0,
      observed: true,
      held,
      interfaces: plan.interfaces.map((i) => ({...i, references: refs.get(i.name) ?? 0})),
      unavailable: plan.unavailable,
      foreign: plan.foreign.map((o) => ({family: o.family ?? (o.address.includes(':') ? 6 : 4), ...o})),
      unknown: plan.unknown,
      actions: outcomes,
      taken: taken.map((a) => a.address),
      released: released.map((a) => a.address),
      moved: movedOk.map((a) => a.address),
      errors,
      startedAt,
      durationMs: 0,
    }
    this.lastResult = result
    this.warnOnce(result)

    // Announce first (CTDB sends the first ARP right after takeip), then tell the daemon.
    for (const r of released) this.cancelAnnouncements(r.address)
    for (const a of taken) this.startAnnouncements(eventOf(a, a.interface), 'take')
    for (const m of movedOk) this.startAnnouncements(eventOf(m, m.to), 'move')
    for (const r of released) await this.callback('onReleased', eventOf(r, r.interface))
    for (const m of movedOk) await this.callback('onMoved', {...eventOf(m, m.to), from: m.from, reason: m.reason})
    for (const a of taken) await this.callback('onTaken', eventOf(a, a.interface))

    result.durationMs = Date.now() - startedAt
    this.finish(result)
    return result
  }

  private finish(result: IpPassResult): void {
    this.lastResult = result
    try {
      this.options.onPass?.(result)
    } catch (e) {
      this.log.warn({err: e}, 'onPass callback failed')
    }
  }

  /** Carries out one action; for a move whose removal failed, resolves with that error. */
  private async act(action: IpAction): Promise<unknown> {
    const a = {address: action.address, prefixLength: action.prefixLength, family: action.family}
    switch (action.kind) {
      case 'add':
        return this.driver.addAddress({...a, interface: action.interface})
      case 'remove':
        if (action.reason === 'release') await this.callback('beforeRelease', eventOf(action, action.interface))
        return this.driver.removeAddress({...a, interface: action.interface})
      case 'move':
        // Add on the new interface first, so a failure leaves the address where it was.
        await this.driver.addAddress({...a, interface: action.to})
        try {
          await this.driver.removeAddress({...a, interface: action.from})
        } catch (e) {
          return e ?? new Error('removal failed')
        }
        return undefined
    }
  }

  private async callback<K extends 'onTaken' | 'onReleased' | 'onMoved' | 'beforeRelease'>(name: K, event: Parameters<NonNullable<IpReconcilerOptions[K]>>[0]): Promise<void> {
    const cb = this.options[name] as Callback<typeof event> | undefined
    if (!cb) return
    try {
      await cb(event)
    } catch (e) {
      this.log.warn({err: e, address: event.address}, `${name} callback failed`)
    }
  }

  /** Logs unavailable / foreign / unknown addresses when the set changes, not every pass. */
  private warnOnce(r: IpPassResult): void {
    const key = JSON.stringify([r.unavailable, r.foreign, r.unknown])
    if (key === this.lastWarnings) return
    this.lastWarnings = key
    for (const u of r.unavailable) this.log.warn({address: u.address, interfaces: u.interfaces}, `cannot host ${u.address}: every interface of it (${u.interfaces.join(', ')}) is down`)
    for (const f of r.foreign) this.log.warn({address: f.address, interface: f.interface}, `public address ${f.address} is on ${f.interface}, which no public address uses: left alone`)
    for (const u of r.unknown) this.log.warn({address: u}, `asked to hold ${u}, which is not a public address of the config: ignored`)
  }

  private startAnnouncements(event: IpEvent, after: AnnounceEvent['after']): void {
    const intervalMs = after === 'take' ? this.schedule.takeIntervalMs : this.schedule.moveIntervalMs
    this.cancelAnnouncements(event.address)
    const s: Series = {event, cancelled: false}
    this.series.set(event.address, s)
    const round = (n: number) => {
      s.timer = undefined
      if (s.cancelled) return
      // CTDB skips and cancels the series when the address no longer has an interface.
      if (n > 0 && !this.stillOn(event)) {
        this.cancelAnnouncements(event.address)
        return
      }
      const send = Promise.resolve()
        .then(() => this.driver.announce({address: event.address, family: event.family, interface: event.interface}))
        .then(async () => {
          this.log.debug({address: event.address, interface: event.interface, round: n}, `announced ${event.address} on ${event.interface} (round ${n + 1}/${this.schedule.rounds})`)
          await this.options.onAnnounce?.({...event, round: n, after})
        })
        .catch((e) => this.log.warn({err: e, address: event.address, interface: event.interface, round: n}, `announcing ${event.address} on ${event.interface} failed: ${errText(e)}`))
      this.inflight.add(send)
      void send.finally(() => this.inflight.delete(send))
      if (n + 1 < this.schedule.rounds) {
        s.timer = setTimeout(() => round(n + 1), intervalMs)
        s.timer.unref?.()
      } else if (this.series.get(event.address) === s) {
        this.series.delete(event.address)
      }
    }
    round(0)
  }

  private cancelAnnouncements(address: string): void {
    const s = this.series.get(address)
    if (!s) return
    s.cancelled = true
    if (s.timer) clearTimeout(s.timer)
    this.series.delete(address)
  }

  /** Still desired and, as far as the last pass saw, on the interface the series announces. */
  private stillOn(event: IpEvent): boolean {
    if (!this.desiredSet.has(event.address)) return false
    return this.lastResult?.held.some((h) => h.address === event.address && h.interface === event.interface) ?? false
  }
}

function eventOf(a: {address: string; prefixLength: number; family: IpFamily}, iface: string): IpEvent {
  return {address: a.address, prefixLength: a.prefixLength, family: a.family, interface: iface}
}

function describe(a: IpAction): string {
  const cidr = `${a.address}/${a.prefixLength}`
  return a.kind === 'move' ? `moving ${cidr} from ${a.from} to ${a.to}` : `${a.kind === 'add' ? 'adding' : 'removing'} ${cidr} ${a.kind === 'add' ? 'to' : 'from'} ${a.interface}`
}

/** The host's addresses as they should be after the successful actions (when re-reading fails). */
function simulate(addresses: HostAddress[], outcomes: ActionOutcome[]): HostAddress[] {
  let out = [...addresses]
  const drop = (address: string, prefixLength: number, iface: string) => {
    out = out.filter((h) => !(h.address === address && h.prefixLength === prefixLength && h.interface === iface))
  }
  for (const {action: a, ok} of outcomes) {
    if (!ok) continue
    if (a.kind === 'remove') drop(a.address, a.prefixLength, a.interface)
    else if (a.kind === 'add') out.push({address: a.address, prefixLength: a.prefixLength, family: a.family, interface: a.interface})
    else {
      drop(a.address, a.prefixLength, a.from)
      out.push({address: a.address, prefixLength: a.prefixLength, family: a.family, interface: a.to})
    }
  }
  return out
}
