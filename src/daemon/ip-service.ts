// The node's side of public IP failover: what the leader assigned, the host reconciler that
// makes it true (iproute2, or the fake driver without root), what the node really holds, and
// self-fencing (release everything when cut off from the leader).
import type {NatsConnection} from '@nats-io/transport-node'
import type {Logger} from 'pino'
import type {ClusterConfig} from '../config/model.js'
import {FakeIpDriver} from '../reconciler/drivers/fake-driver.js'
import type {IpDriver} from '../reconciler/drivers/ip-driver.js'
import {Iproute2Driver} from '../reconciler/drivers/iproute2-driver.js'
import {managedInterfaces} from '../reconciler/ip/plan.js'
import {IpReconciler, type IpEvent, type IpMoveEvent, type IpPassResult} from '../reconciler/ip/reconciler.js'
import {TickleService} from '../tickles/service.js'

export type IpDriverKind = 'iproute2' | 'fake'

export interface IpServiceOptions {
  pnn: number
  config: ClusterConfig
  driver: IpDriverKind
  logger: Logger
  /** Something the rest of the cluster should hear about changed (held addresses, links). */
  onChange: () => void
  /** Told after an address was taken, released or moved to another interface (event scripts). */
  hooks?: {taken(e: IpEvent): void; released(e: IpEvent): void; moved(e: IpMoveEvent): void}
  /** Reconcile period (drift repair). */
  intervalMs?: number
}

export class IpService {
  private readonly reconciler: IpReconciler
  private readonly driver: IpDriver
  private readonly log: Logger
  private assigned: string[] = []
  private fenced = false
  private lastKey = ''
  private readonly fakeInterfaces = new Set<string>()
  /** Connection tracking, kill on release, tickles on take: real host only (ss, raw sockets). */
  private readonly tickles?: TickleService

  constructor(private readonly options: IpServiceOptions) {
    this.log = options.logger.child({component: 'ip'})
    this.driver = options.driver === 'iproute2' ? new Iproute2Driver() : new FakeIpDriver()
    this.addFakeInterfaces(options.config)
    if (options.driver === 'iproute2') this.tickles = new TickleService({pnn: options.pnn, config: options.config, logger: options.logger, held: () => this.held()})
    this.reconciler = new IpReconciler({
      driver: this.driver,
      publicAddresses: options.config.publicAddresses,
      intervalMs: options.intervalMs ?? 1000,
      logger: this.log,
      onTaken: (e) => {
        this.log.info({address: e.address, interface: e.interface}, 'took public address')
        options.hooks?.taken(e)
      },
      onReleased: (e) => {
        this.log.info({address: e.address, interface: e.interface}, 'released public address')
        options.hooks?.released(e)
      },
      onMoved: (e) => options.hooks?.moved(e),
      onPass: (r) => this.afterPass(r),
      ...(this.tickles ? {beforeRelease: (e) => this.tickles!.beforeRelease(e), onAnnounce: (e) => this.tickles!.onAnnounce(e)} : {}),
    })
  }

  start(): void {
    this.reconciler.start()
  }

  /** Once connected: connection tracking reaches the tickles bucket. */
  connected(nc: NatsConnection): void {
    this.tickles?.start(nc)
  }

  async stop(): Promise<void> {
    this.tickles?.stop()
    await this.reconciler.stop()
  }

  setConfig(config: ClusterConfig): void {
    this.tickles?.setConfig(config)
    this.addFakeInterfaces(config)
    this.reconciler.setPublicAddresses(config.publicAddresses)
    this.assigned = this.assigned.filter((a) => config.publicAddresses.some((p) => p.address === a))
  }

  /** Release phase of a takeover run: keep only what stays on this node. */
  async release(keep: readonly string[]): Promise<IpPassResult> {
    const stay = new Set(keep)
    this.assigned = this.assigned.filter((a) => stay.has(a))
    this.reconciler.setDesired(this.fenced ? [] : this.assigned)
    return this.reconciler.pass()
  }

  /** Take phase: hold exactly these addresses. */
  async take(addresses: readonly string[]): Promise<IpPassResult> {
    this.assigned = [...addresses]
    this.fenced = false
    await this.tickles?.prefetch(addresses)
    this.reconciler.setDesired(this.assigned)
    return this.reconciler.pass()
  }

  /** Self-fencing or leaving the cluster (banned, stopped, shutdown): hold nothing. */
  async releaseAll(reason: string): Promise<void> {
    if (this.fenced && this.held().length === 0) return
    this.fenced = true
    this.assigned = []
    this.log.warn({reason}, 'releasing every public address')
    this.reconciler.setDesired([])
    await this.reconciler.releaseAll()
  }

  get isFenced(): boolean {
    return this.fenced
  }

  /** What the node holds; nothing once it is fencing itself (the release is under way). */
  held(): string[] {
    if (this.fenced) return []
    return (this.reconciler.last?.held ?? []).map((h) => h.address)
  }

  interfaces(): Record<string, 'up' | 'down'> {
    const out: Record<string, 'up' | 'down'> = {}
    for (const i of this.reconciler.last?.interfaces ?? []) out[i.name] = i.up ? 'up' : 'down'
    return out
  }

  /** The node holds exactly what it was assigned. */
  matchesAssignment(): boolean {
    const held = new Set(this.held())
    return held.size === this.assigned.length && this.assigned.every((a) => held.has(a))
  }

  /** The fake host has every interface the config names, link up. */
  private addFakeInterfaces(config: ClusterConfig): void {
    if (!(this.driver instanceof FakeIpDriver)) return
    for (const name of managedInterfaces(config.publicAddresses)) {
      if (this.fakeInterfaces.has(name)) continue
      this.fakeInterfaces.add(name)
      this.driver.addInterface({name})
    }
  }

  private afterPass(r: IpPassResult): void {
    const key = JSON.stringify([r.held.map((h) => h.address).sort(), r.interfaces.map((i) => [i.name, i.up])])
    if (key !== this.lastKey) {
      this.lastKey = key
      this.options.onChange()
    }
  }
}
