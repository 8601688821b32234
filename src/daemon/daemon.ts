// The per-node daemon: heartbeats over NATS, membership, own flags, leadership under the
// cluster lock, admin controls. Later stages (takeover runs, databases, monitoring) plug in here.
import {randomBytes, randomInt} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import type {Logger} from 'pino'
import type {Msg, NatsConnection, Subscription} from '@nats-io/transport-node'
import {canLead, decideWithoutLock} from '../cluster/leadership.js'
import {flagBits, INACTIVE_MASK, type ClusterState, type NodeFlag} from '../cluster/state.js'
import type {ClusterConfig, NodeConfig} from '../config/model.js'
import {encode, parseControlRequest, parseDeparture, parseHeartbeat, type ControlReply, type ControlRequest, type Heartbeat} from '../protocol/messages.js'
import {STATUS_QUEUE, subjects} from '../protocol/subjects.js'
import {loadConfigText} from '../config/index.js'
import {ConfigStore, sha256, StaleRevisionError, type AppliedRevision} from '../protocol/config-store.js'
import {LocalFlags} from './local-flags.js'
import type {LeaderLock} from './leader-lock.js'
import {Membership, type MembershipChange} from './membership.js'
import {connectNats} from './nats.js'

/** Generation value CTDB uses for "no valid generation". */
export const INVALID_GENERATION = 1

export interface DaemonOptions {
  /** The local cluster file: bootstrap (NATS servers, name) and seed of an empty cluster. */
  config: ClusterConfig
  /** Its YAML text, written to the cluster when the cluster holds no config yet. */
  configText?: string
  nodeName: string
  dataDir: string
  logger: Logger
  /** The NATS server to use first (the one on this node). */
  natsServer?: string
  /** Builds the cluster lock keeper for this node (undefined for clusterLock type none). */
  createLeaderLock: (config: ClusterConfig, onChange: () => void) => LeaderLock | undefined
}

export class NodeDaemon {
  readonly pnn: number
  private config: ClusterConfig
  private self: NodeConfig
  private readonly log: Logger
  private readonly subjects: ReturnType<typeof subjects>
  private readonly incarnation = randomBytes(8).toString('hex')
  private readonly startedAt = performance.now()
  private readonly membership: Membership
  private readonly flags: LocalFlags
  private lock: LeaderLock | undefined
  private nc?: NatsConnection
  private store?: ConfigStore
  private stopWatch?: () => void
  private configRevision = 0
  private configError?: {revision: number; message: string}
  private subs: Subscription[] = []
  private timer?: NodeJS.Timeout
  private seq = 0
  private leader = -1
  private claiming = false
  private generation = INVALID_GENERATION
  private activeKey = ''
  private stopping = false

  constructor(private readonly options: DaemonOptions) {
    this.config = options.config
    const self = this.config.nodes.find((n) => n.name === options.nodeName)
    if (!self) throw new Error(`node "${options.nodeName}" is not in cluster ${this.config.name}: known nodes are ${this.config.nodes.map((n) => n.name).join(', ')}`)
    if (self.deleted) throw new Error(`node "${options.nodeName}" is marked deleted in the cluster file and cannot run`)
    this.self = self
    this.pnn = self.pnn
    this.log = options.logger
    this.subjects = subjects(this.config.name)
    mkdirSync(options.dataDir, {recursive: true, mode: 0o700})
    this.membership = new Membership(this.peerPnns(), this.deadAfterMs())
    this.flags = new LocalFlags(options.dataDir, () => this.onLocalFlagsChanged())
    this.lock = options.createLeaderLock(this.config, () => this.evaluate())
  }

  async start(): Promise<void> {
    this.nc = await connectNats(this.config, `ctdbctl-daemon ${this.config.name} pnn ${this.pnn}`, this.log, this.options.natsServer)
    const s = this.subjects
    this.subs = [
      this.nc.subscribe(s.heartbeatAll, {callback: (_e, m) => this.safely('heartbeat', () => this.onHeartbeat(m))}),
      this.nc.subscribe(s.departureAll, {callback: (_e, m) => this.safely('departure', () => this.onDeparture(m))}),
      this.nc.subscribe(s.control(this.pnn), {callback: (_e, m) => this.safely('control', () => this.onControl(m))}),
      this.nc.subscribe(s.status, {queue: STATUS_QUEUE, callback: (_e, m) => this.safely('status', () => m.respond(encode(this.reply(true))))}),
    ]
    this.log.info({flags: this.flags.flags(), incarnation: this.incarnation}, 'daemon started')
    this.tick()
    this.startTimer()
    void this.followAppliedConfigWithRetry()
  }

  /** JetStream may be briefly unavailable (start-up, lost quorum): keep trying, never crash. */
  private async followAppliedConfigWithRetry(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.followAppliedConfig()
        return
      } catch (e) {
        this.log.warn({err: e, attempt}, 'cannot read the applied config from the cluster yet; retrying')
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))))
      }
    }
  }

  private startTimer(): void {
    clearInterval(this.timer)
    this.timer = setInterval(() => this.tick(), this.config.tunables.keepaliveIntervalMs)
  }

  /** Seeds an empty cluster with the local file, then runs whatever revision the cluster holds. */
  private async followAppliedConfig(): Promise<void> {
    this.store = await ConfigStore.open(this.nc!, this.config.name, this.config.nats.servers.length)
    if (this.options.configText !== undefined && !(await this.store.current())) {
      const yaml = this.options.configText
      try {
        const rev = await this.store.write({yaml, sha256: sha256(yaml), author: `daemon ${this.self.name}`, message: 'seeded from the local cluster file', time: new Date().toISOString()}, 0)
        this.log.info({revision: rev}, 'seeded the cluster with the local cluster file')
      } catch (e) {
        if (!(e instanceof StaleRevisionError)) throw e
      }
    }
    this.stopWatch = await this.store.watch((rev) => this.safely('config revision', () => this.onAppliedRevision(rev)))
    const store = this.store
    const sub = this.nc!.subscribe(this.subjects.configApplied, {
      callback: () => {
        void store.current().then(
          (rev) => this.safely('config revision', () => this.onAppliedRevision(rev)),
          (e: unknown) => this.log.warn({err: e}, 'cannot fetch the announced config revision; the watch will deliver it'),
        )
      },
    })
    this.subs.push(sub)
  }

  private onAppliedRevision(rev: AppliedRevision | undefined): void {
    if (rev && rev.revision <= this.configRevision) return // already running it (announced and watched)
    if (!rev || typeof rev.yaml !== 'string') {
      this.rejectRevision(rev?.revision ?? 0, 'the applied entry is not a ctdbctl config record')
      return
    }
    const result = loadConfigText(rev.yaml, `revision ${rev.revision}`, {localChecks: false})
    if (!result.config) {
      const first = result.problems.find((p) => p.severity === 'error')
      this.rejectRevision(rev.revision, first ? `${first.line}:${first.column}: ${first.message}` : 'invalid config')
      return
    }
    if (result.config.name !== this.config.name) {
      this.rejectRevision(rev.revision, `it names cluster "${result.config.name}", this is "${this.config.name}"`)
      return
    }
    const self = result.config.nodes.find((n) => n.pnn === this.pnn)
    if (!self || self.deleted) {
      this.rejectRevision(rev.revision, `it ${self ? 'marks this node deleted' : 'does not contain this node'}; stop this daemon`)
      return
    }
    this.adoptConfig(result.config, rev.revision)
  }

  private rejectRevision(revision: number, reason: string): void {
    this.configError = {revision, message: `revision ${revision} rejected: ${reason}`}
    this.log.error({revision, reason}, 'refused an applied config; keeping the last good one')
    this.publishHeartbeat()
  }

  private adoptConfig(config: ClusterConfig, revision: number): void {
    const previous = this.config
    this.config = config
    this.self = config.nodes.find((n) => n.pnn === this.pnn)!
    this.configRevision = revision
    this.configError = undefined
    this.membership.setPeers(this.peerPnns())
    this.membership.setDeadAfter(this.deadAfterMs())
    if (previous.tunables.keepaliveIntervalMs !== config.tunables.keepaliveIntervalMs) this.startTimer()
    if (JSON.stringify(previous.clusterLock) !== JSON.stringify(config.clusterLock)) {
      const old = this.lock
      this.lock = this.options.createLeaderLock(config, () => this.evaluate())
      void old?.stop()
    }
    this.log.info({revision}, 'running config revision')
    this.evaluate()
    this.publishHeartbeat()
  }

  /** Clean shutdown: release the lock, announce the departure, close the connection. */
  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    clearInterval(this.timer)
    this.stopWatch?.()
    this.flags.dispose()
    await this.lock?.stop()
    if (this.nc && !this.nc.isClosed()) {
      try {
        this.nc.publish(this.subjects.departure(this.pnn), encode({v: 1, pnn: this.pnn, incarnation: this.incarnation}))
        await this.nc.flush()
      } catch (e) {
        this.log.warn({err: e}, 'could not announce departure')
      }
      for (const sub of this.subs) sub.unsubscribe()
      await this.nc.close()
    }
    this.log.info('daemon stopped')
  }

  /** This node's view of the cluster (DESIGN.md §4). */
  snapshot(): ClusterState {
    return {
      cluster: this.config.name,
      configRevision: this.configRevision,
      generation: this.generation,
      leader: this.leader,
      thisNode: this.pnn,
      nodes: this.config.nodes.map((n) => ({pnn: n.pnn, name: n.name, address: n.address, flags: this.observedFlags(n), ...this.configReport(n.pnn)})),
      publicAddresses: [],
    }
  }

  private configReport(pnn: number): {configRevision?: number; converged?: boolean; configError?: string; rejectedRevision?: number} {
    if (pnn === this.pnn) return {configRevision: this.configRevision, converged: this.configRevision > 0, ...this.configErrorFields()}
    const hb = this.membership.peer(pnn)?.heartbeat
    if (!hb) return {}
    return {
      configRevision: hb.configRevision,
      converged: hb.converged,
      ...(hb.configError ? {configError: hb.configError} : {}),
      ...(hb.rejectedRevision !== undefined ? {rejectedRevision: hb.rejectedRevision} : {}),
    }
  }

  private configErrorFields(): {configError?: string; rejectedRevision?: number} {
    return this.configError ? {configError: this.configError.message, rejectedRevision: this.configError.revision} : {}
  }

  private tick(): void {
    for (const change of this.membership.tick(performance.now())) this.logMembership(change)
    this.evaluate()
    this.publishHeartbeat()
  }

  private publishHeartbeat(): void {
    if (!this.nc || this.nc.isClosed() || this.stopping) return
    const hb: Heartbeat = {
      v: 1,
      pnn: this.pnn,
      incarnation: this.incarnation,
      seq: ++this.seq,
      flags: this.flags.flags(),
      holdsLock: this.lock ? this.lock.held : this.claiming,
      leader: this.leader,
      generation: this.generation,
      uptimeMs: Math.round(performance.now() - this.startedAt),
      configRevision: this.configRevision,
      converged: this.configRevision > 0,
      ...this.configErrorFields(),
    }
    this.nc.publish(this.subjects.heartbeat(this.pnn), encode(hb))
  }

  private onHeartbeat(m: Msg): void {
    const hb = parseHeartbeat(m.data)
    if (!hb) {
      this.log.warn({subject: m.subject}, 'dropped a malformed heartbeat')
      return
    }
    if (hb.pnn === this.pnn) {
      if (hb.incarnation !== this.incarnation) this.log.error({other: hb.incarnation}, `another daemon is running as pnn ${this.pnn}`)
      return
    }
    const change = this.membership.heartbeat(hb, performance.now())
    if (change) {
      this.logMembership(change)
      this.evaluate()
    }
  }

  private onDeparture(m: Msg): void {
    const d = parseDeparture(m.data)
    if (!d || d.pnn === this.pnn) return
    const change = this.membership.departure(d.pnn, d.incarnation)
    if (change) {
      this.logMembership(change)
      this.evaluate()
    }
  }

  private onControl(m: Msg): void {
    const req = parseControlRequest(m.data)
    if (typeof req === 'string') {
      this.log.warn({error: req}, 'rejected a control request')
      m.respond(encode({ok: false, error: req} satisfies ControlReply))
      return
    }
    const result = this.applyControl(req)
    if (result.changed) this.log.info({op: req.op, seconds: req.seconds}, `control ${req.op} applied`)
    this.evaluate()
    this.publishHeartbeat()
    m.respond(encode(this.reply(result.changed, result.message)))
  }

  private applyControl(req: ControlRequest): {changed: boolean; message?: string} {
    const f = this.flags
    const n = this.pnn
    switch (req.op) {
      case 'status':
        return {changed: false}
      case 'ban':
        if (f.banned) return {changed: false, message: `Node ${n} is already banned`}
        f.ban(req.seconds!)
        return {changed: true}
      case 'unban':
        if (!f.banned) return {changed: false, message: `Node ${n} is not banned`}
        f.unban()
        return {changed: true}
      case 'disable':
        if (f.isDisabled) return {changed: false, message: `Node ${n} is already disabled`}
        f.setDisabled(true)
        return {changed: true}
      case 'enable':
        if (!f.isDisabled) return {changed: false, message: `Node ${n} is not disabled`}
        f.setDisabled(false)
        return {changed: true}
      case 'stop':
        if (f.isStopped) return {changed: false, message: `Node ${n} is already stopped`}
        f.setStopped(true)
        return {changed: true}
      case 'continue':
        if (!f.isStopped) return {changed: false, message: `Node ${n} is not stopped`}
        f.setStopped(false)
        return {changed: true}
    }
  }

  private reply(changed: boolean, message?: string): ControlReply {
    return {ok: true, changed, ...(message ? {message} : {}), state: this.snapshot()}
  }

  private onLocalFlagsChanged(): void {
    this.log.info({flags: this.flags.flags()}, 'own flags changed')
    if (!this.stopping) {
      this.evaluate()
      this.publishHeartbeat()
    }
  }

  /** Leadership and generation from the current view; idempotent, called on every change. */
  private evaluate(): void {
    if (this.stopping) return
    const mayLead = canLead(flagBits(this.flags.flags()), this.self.capabilities.leader)
    let leader: number
    if (this.lock) {
      if (mayLead) this.lock.start()
      else void this.lock.stop()
      if (this.lock.held) leader = this.pnn
      else leader = this.membership.all().find((p) => p.connected && p.heartbeat?.holdsLock)?.pnn ?? -1
    } else {
      const now = performance.now()
      const peers = this.membership.all().filter((p) => p.connected && p.heartbeat).map((p) => {
        const hb = p.heartbeat!
        return {pnn: p.pnn, canLead: canLead(flagBits(hb.flags), this.nodeConfig(p.pnn)?.capabilities.leader ?? false), uptimeMs: hb.uptimeMs + (now - p.lastHeardMs!), claiming: hb.holdsLock}
      })
      const decision = decideWithoutLock({pnn: this.pnn, canLead: mayLead, uptimeMs: now - this.startedAt, claiming: this.claiming}, peers)
      this.claiming = decision.claim
      leader = decision.leader
    }
    if (leader !== this.leader) {
      this.log.info({leader, previous: this.leader}, leader === -1 ? 'no leader' : leader === this.pnn ? `took leadership, leader=${leader}` : `leader is ${leader}`)
      this.leader = leader
    }
    this.updateGeneration()
  }

  /** The leader starts a new generation whenever the set of active nodes changes; others follow it. */
  private updateGeneration(): void {
    if (this.leader === this.pnn) {
      const key = this.config.nodes.filter((n) => (flagBits(this.observedFlags(n)) & INACTIVE_MASK) === 0).map((n) => n.pnn).join(',')
      if (key !== this.activeKey || this.generation === INVALID_GENERATION) {
        this.activeKey = key
        this.generation = randomInt(2, 2 ** 31)
        this.log.info({generation: this.generation, active: key}, 'new generation')
      }
    } else {
      this.activeKey = ''
      const leaderHb = this.membership.peer(this.leader)?.heartbeat
      this.generation = this.leader >= 0 && leaderHb ? leaderHb.generation : INVALID_GENERATION
    }
  }

  private observedFlags(n: NodeConfig): NodeFlag[] {
    if (n.deleted) return ['DISCONNECTED', 'DELETED']
    if (n.pnn === this.pnn) return this.flags.flags()
    const peer = this.membership.peer(n.pnn)
    // As CTDB's "node dead" handler: a disconnected node is also UNHEALTHY; its other flags are the last it reported.
    if (!peer?.connected || !peer.heartbeat) return ['DISCONNECTED', 'UNHEALTHY', ...(peer?.heartbeat?.flags.filter((f) => f !== 'UNHEALTHY') ?? [])]
    return peer.heartbeat.flags
  }

  private logMembership(change: MembershipChange): void {
    const name = this.nodeConfig(change.pnn)?.name
    if (change.connected) this.log.info({peer: change.pnn, peerName: name, reason: change.reason}, `node ${change.pnn} connected`)
    else this.log.warn({peer: change.pnn, peerName: name, reason: change.reason}, `node ${change.pnn} DISCONNECTED`)
  }

  private nodeConfig(pnn: number): NodeConfig | undefined {
    return this.config.nodes.find((n) => n.pnn === pnn)
  }

  private peerPnns(): number[] {
    return this.config.nodes.filter((n) => !n.deleted && n.pnn !== this.pnn).map((n) => n.pnn)
  }

  private deadAfterMs(): number {
    return this.config.tunables.keepaliveIntervalMs * this.config.tunables.keepaliveLimit
  }

  /** A handler error is logged, never allowed to take the daemon down. */
  private safely(what: string, fn: () => void): void {
    try {
      fn()
    } catch (e) {
      this.log.error({err: e}, `error while handling ${what}`)
    }
  }
}
