// A node's connection tracking (issue 8): every scan interval it reads the established
// connections of the public addresses it holds and stores each address's list in the tickles
// bucket when it changed; before releasing an address it rescans, stores the list and kills the
// connections (10.interface's rules); when it takes an address it sends the previous holder's
// clients tickle ACKs with each announcement round (CTDB's takeip schedule), so they reset and
// reconnect at once. Only with the real host driver: it needs `ss` and raw sockets.
import type {NatsConnection} from '@nats-io/transport-node'
import type {Logger} from 'pino'
import type {ClusterConfig} from '../config/model.js'
import type {KillConnection} from '../net/connections.js'
import {killTcp, type KillTcpOptions, type KillTcpResult} from '../net/killtcp.js'
import {LOG_LEVELS, type Logger as NetLogger} from '../net/log.js'
import {sendTickles} from '../net/tickle.js'
import type {AnnounceEvent, IpEvent} from '../reconciler/ip/reconciler.js'
import {connectionsOf, releaseKillList, sameConnections, takeoverTickles, type EstablishedConnection, type TrackedConnection} from './connections.js'
import {listEstablished} from './scan.js'
import {tickleKey, type TickleRecord} from './record.js'
import {TickleStore} from './store.js'

/** A store call that does not answer in this time is given up (the node may be cut off). */
const STORE_TIMEOUT_MS = 2000
/** A release waits at most this long for its final list to be stored (usually a few ms). */
const RELEASE_STORE_WAIT_MS = 500
/**
 * Timer scans leave an address's stored list alone this long after a take began (the inherited
 * list is needed for the 3 announcement rounds, 2.2 s) or a release began (its final list is for
 * the next holder; a scan that started before the release must not overwrite it).
 */
const HOLD_OFF_MS = 5000

export interface TickleServiceOptions {
  pnn: number
  config: ClusterConfig
  logger: Logger
  /** The public addresses this node holds now. */
  held: () => string[]
  /** Reads the host's established connections from these local addresses (default: `ss`). */
  scan?: (addresses: readonly string[]) => Promise<EstablishedConnection[]>
  /** Resets connections (default: the killtcp engine over raw sockets). */
  kill?: (connections: KillConnection[], options: KillTcpOptions) => Promise<KillTcpResult>
}

export class TickleService {
  private config: ClusterConfig
  private readonly log: Logger
  private store?: TickleStore
  private timer?: NodeJS.Timeout
  private stopped = false
  /** Last list stored per held address. */
  private readonly written = new Map<string, TrackedConnection[]>()
  /** Lists of the previous holders of addresses being taken, for the announcement rounds. */
  private readonly inherited = new Map<string, {connections: TrackedConnection[]; at: number}>()
  /**
   * Every list as this node last saw it (a KV watch): the fallback when the bucket cannot be read
   * at takeover time, e.g. while its stream elects a new leader because the old holder's server died.
   */
  private readonly mirrored = new Map<string, TickleRecord>()
  /** The last store call failed or was slow: releases do not wait for theirs (a fencing node is cut off). */
  private storeFailing = false
  /** When a release of the address began: timer scans leave its final list alone for a while. */
  private readonly releasing = new Map<string, number>()
  private opened: () => void = () => undefined
  /** Resolves once the bucket is open (after start()). */
  readonly ready: Promise<void> = new Promise((resolve) => (this.opened = resolve))

  constructor(private readonly options: TickleServiceOptions) {
    this.config = options.config
    this.log = options.logger.child({component: 'tickles'})
  }

  get enabled(): boolean {
    return this.config.tunables.tickles
  }

  setConfig(config: ClusterConfig): void {
    this.config = config
  }

  /** Opens the bucket (retried in the background until it works) and starts the scan timer. */
  start(nc: NatsConnection): void {
    const open = async (attempt: number): Promise<void> => {
      if (this.stopped || nc.isClosed()) return
      try {
        this.store = await TickleStore.open(nc, this.config.name, this.config.nats.servers.length, (key, reason) => this.log.warn({key, reason}, `ignoring malformed tickle list ${key}: ${reason}`))
        this.opened()
        this.mirror(this.store)
      } catch (e) {
        this.log.warn({err: e, attempt}, 'cannot open the tickles bucket yet; retrying')
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)))
        return open(attempt + 1)
      }
    }
    void open(1)
    this.schedule()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
  }

  /** Before a take: fetch the lists of the addresses this node does not hold yet. */
  async prefetch(addresses: readonly string[]): Promise<void> {
    for (const a of addresses) this.releasing.delete(a)
    if (!this.enabled) return
    const held = new Set(this.options.held())
    await Promise.all(addresses.filter((a) => !held.has(a)).map((a) => this.inherit(a)))
  }

  /** The reconciler's beforeRelease hook: store the final list, then kill the connections. */
  async beforeRelease(event: IpEvent): Promise<void> {
    this.written.delete(event.address)
    this.inherited.delete(event.address)
    this.releasing.set(event.address, performance.now())
    if (!this.enabled) return
    let connections: TrackedConnection[]
    try {
      connections = connectionsOf(await this.scan([event.address]), event.address)
    } catch (e) {
      this.log.warn({err: e, address: event.address}, `cannot list the connections of ${event.address} before releasing it`)
      return
    }
    // The next holder reads the list once this release is over: store it while killing.
    const stored = this.write(event.address, connections)
    const waitStored = async () => {
      if (this.storeFailing) return
      if ((await Promise.race([stored.then(() => true), sleep(RELEASE_STORE_WAIT_MS).then(() => false)])) === false) this.storeFailing = true
    }
    await Promise.all([waitStored(), this.kill(event, connections)])
  }

  private async kill(event: IpEvent, connections: TrackedConnection[]): Promise<void> {
    if (connections.length === 0) return
    const started = performance.now()
    try {
      const r = await (this.options.kill ?? killTcp)(releaseKillList(connections), {iface: event.interface, logger: this.netLogger()})
      const summary = `Killed ${r.reset}/${r.total} TCP connections to released IP ${event.address}`
      this.log.info({address: event.address, reset: r.reset, total: r.total, ms: Math.round(performance.now() - started)}, summary)
      if (r.remaining.length > 0) this.log.warn({address: event.address, remaining: r.remaining.length}, `${summary}: ${r.remaining.length} not reset`)
    } catch (e) {
      this.log.error({err: e, address: event.address}, `Failed to kill TCP connections to released IP ${event.address}`)
    }
  }

  /** The reconciler's onAnnounce hook: after a take, tickle the previous holder's clients each round. */
  async onAnnounce(event: AnnounceEvent): Promise<void> {
    if (event.after !== 'take' || !this.enabled) return
    if (event.round === 0 && !this.inheriting(event.address)) await this.inherit(event.address)
    const connections = this.inherited.get(event.address)?.connections ?? []
    if (event.round >= 2) this.inherited.delete(event.address)
    const tickles = takeoverTickles(connections, event.address)
    if (tickles.length === 0) return
    const r = await sendTickles(tickles, event.interface, (e) => this.log.warn({err: e, address: event.address}, `sending a tickle ACK failed: ${e.message}`))
    this.log.info({address: event.address, round: event.round, sent: r.sent, failed: r.failed}, `sent ${r.sent} tickle ACK(s) for ${event.address} (round ${event.round + 1})`)
  }

  private mirror(store: TickleStore): void {
    const follow = (): void => {
      if (this.stopped) return
      store
        .watch((key, record) => (record ? this.mirrored.set(key, record) : this.mirrored.delete(key)))
        .catch((e: Error) => this.log.debug({err: e}, 'the tickles watch ended; following it again'))
        .finally(() => setTimeout(follow, 1000).unref?.())
    }
    follow()
  }

  private async inherit(address: string): Promise<void> {
    if (!this.store) {
      this.log.warn({address}, `the tickles bucket is not open yet: the clients of ${address} will not be tickled`)
      return
    }
    try {
      const record = await withTimeout(this.store.get(address), `reading the tickle list of ${address}`)
      this.inherited.set(address, {connections: record?.connections ?? [], at: performance.now()})
    } catch (e) {
      const seen = this.mirrored.get(tickleKey(address))
      if (seen?.address === address) {
        this.inherited.set(address, {connections: seen.connections, at: performance.now()})
        this.log.warn({err: e, address}, `cannot read the tickle list of ${address}: using the one this node saw last`)
      } else {
        this.log.warn({err: e, address}, `cannot read the tickle list of ${address}: its clients will not be tickled`)
      }
    }
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.refresh().finally(() => this.schedule()), this.config.tunables.tickleScanIntervalMs)
    this.timer.unref?.()
  }

  /** Stores the lists of held addresses that changed since they were last stored. */
  private async refresh(): Promise<void> {
    if (!this.enabled || !this.store) return
    const held = this.options.held()
    for (const a of this.written.keys()) if (!held.includes(a)) this.written.delete(a)
    if (held.length === 0) return
    let established: EstablishedConnection[]
    try {
      established = await this.scan(held)
    } catch (e) {
      this.log.warn({err: e}, 'cannot list established connections')
      return
    }
    for (const address of held) {
      // Checked again after the scan and each write: a take or release may have begun meanwhile.
      if (!this.options.held().includes(address) || this.holdingOff(address)) continue
      const list = connectionsOf(established, address)
      const last = this.written.get(address)
      if (last && sameConnections(last, list)) continue
      await this.write(address, list)
    }
  }

  private inheriting(address: string): boolean {
    const i = this.inherited.get(address)
    if (i && performance.now() - i.at > HOLD_OFF_MS) this.inherited.delete(address)
    return this.inherited.has(address)
  }

  private holdingOff(address: string): boolean {
    const r = this.releasing.get(address)
    if (r !== undefined && performance.now() - r > HOLD_OFF_MS) this.releasing.delete(address)
    return this.releasing.has(address) || this.inheriting(address)
  }

  private async write(address: string, connections: TrackedConnection[]): Promise<void> {
    if (!this.store) return
    try {
      const dropped = await withTimeout(this.store.put({v: 1, address, pnn: this.options.pnn, time: new Date().toISOString(), connections}), `storing the tickle list of ${address}`)
      if (dropped > 0 && this.written.get(address)?.length !== connections.length) this.log.warn({address, dropped, total: connections.length}, `the tickle list of ${address} is too large for one NATS message: ${dropped} of ${connections.length} connections not stored`)
      this.written.set(address, connections)
      this.storeFailing = false
    } catch (e) {
      this.storeFailing = true
      this.log.warn({err: e, address}, `cannot store the tickle list of ${address}`)
    }
  }

  private scan(addresses: readonly string[]): Promise<EstablishedConnection[]> {
    return (this.options.scan ?? listEstablished)(addresses)
  }

  private netLogger(): NetLogger {
    const level = LOG_LEVELS.NOTICE
    return {level, enabled: (l) => LOG_LEVELS[l] <= level, log: (l, message) => (l === 'ERROR' ? this.log.warn(message) : this.log.debug(message))}
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.())

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
