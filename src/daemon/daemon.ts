// The per-node daemon: heartbeats over NATS, membership, own flags, leadership under the
// cluster lock, admin controls, the applied config, and public IP failover (the leader's
// takeover runs, this node's host reconciliation, self-fencing).
import {randomBytes, randomInt} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import type {Logger} from 'pino'
import type {Msg, NatsConnection, Subscription} from '@nats-io/transport-node'
import {canLead, decideWithoutLock} from '../cluster/leadership.js'
import {flagBits, INACTIVE_MASK, type ClusterState, type NodeFlag, type RecoveryRecord} from '../cluster/state.js'
import {canHost, type Holder} from '../cluster/takeover.js'
import {loadConfigText} from '../config/index.js'
import type {ClusterConfig, NodeConfig} from '../config/model.js'
import type {EventResult} from '../events/model.js'
import type {AppliedRevision} from '../protocol/config-store.js'
import {encode, parseControlReply, parseControlRequest, parseDeparture, parseHeartbeat, type ControlReply, type ControlRequest, type Heartbeat} from '../protocol/messages.js'
import {controlSender, STATUS_QUEUE, subjects} from '../protocol/subjects.js'
import {createDatabaseService, type DatabaseService} from '../db/index.js'
import {startClientSurface, type ClientSurface, type SocketSettings} from './client-socket/surface.js'
import {ConfigFollower} from './config-follower.js'
import {controlRefusal, type ControlChannel} from './control-policy.js'
import {EventService} from './event-service.js'
import {GroupRoles} from './group-roles.js'
import {IpService, type IpDriverKind} from './ip-service.js'
import type {LeaderLock} from './leader-lock.js'
import {LocalFlags} from './local-flags.js'
import {DaemonMetrics} from './metrics.js'
import {Membership, type MembershipChange} from './membership.js'
import {connectNats} from './nats.js'
import {TakeoverCoordinator} from './takeover-coordinator.js'

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
  /** How public addresses reach the host: iproute2 (real) or fake (no root; records only). */
  ipDriver: IpDriverKind
  /** Builds the cluster lock keeper for this node (undefined for clusterLock type none). */
  createLeaderLock: (config: ClusterConfig, onChange: () => void) => LeaderLock | undefined
  /** The local client socket (default <dataDir>/ctdbd.socket, mode 0660). */
  socket?: SocketSettings
}

type Reply = {changed: boolean; message?: string; events?: EventResult[]} | {error: string}

export class NodeDaemon {
  readonly pnn: number
  readonly metrics: DaemonMetrics
  /** The last database recovery this node led. */
  private lastRecovery?: RecoveryRecord
  private config: ClusterConfig
  private self: NodeConfig
  private readonly log: Logger
  private readonly subjects: ReturnType<typeof subjects>
  private readonly incarnation = randomBytes(8).toString('hex')
  private readonly startedAt = performance.now()
  private readonly membership: Membership
  private readonly flags: LocalFlags
  private readonly ip: IpService
  private readonly events: EventService
  private readonly takeover: TakeoverCoordinator
  /** NAT gateway and LVS roles (real host driver only). */
  private readonly groups?: GroupRoles
  private lock: LeaderLock | undefined
  private nc?: NatsConnection
  private follower?: ConfigFollower
  private clients?: ClientSurface
  private db?: DatabaseService
  private configRevision = 0
  private configError?: {revision: number; message: string}
  /** Config revision of the last takeover run this node took part in. */
  private assignedRevision = 0
  private subs: Subscription[] = []
  private timer?: NodeJS.Timeout
  private seq = 0
  private leader = -1
  private claiming = false
  private generation = INVALID_GENERATION
  private activeKey = ''
  private runKey = ''
  private lastLeaderContact = performance.now()
  private lastTickAt = performance.now()
  /** Set when the event loop was stopped (SIGSTOP, a stall): the view and the lock are stale. */
  private pausedAt?: number
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
    this.events = new EventService({config: this.config, pnn: this.pnn, nodeName: self.name, dataDir: options.dataDir, logger: this.log, setUnhealthy: (u) => this.flags.setUnhealthy(u), onMonitorResult: (unit, ok) => this.metrics.recordMonitorResult(unit, ok), isActive: () => !this.isInactive()})
    this.ip = new IpService({pnn: this.pnn, config: this.config, driver: options.ipDriver, logger: this.log, onChange: () => this.publishHeartbeat(), hooks: this.events})
    if (options.ipDriver === 'iproute2') this.groups = new GroupRoles({dataDir: options.dataDir, pnn: this.pnn, logger: this.log})
    this.takeover = new TakeoverCoordinator({
      config: () => this.config,
      configRevision: () => this.configRevision,
      isLeader: () => this.leader === this.pnn && !this.recentlyPaused(),
      view: () => this.snapshot(),
      holders: () => this.holders(),
      send: (pnn, request, timeoutMs) => this.send(pnn, request, timeoutMs),
      ban: (pnn, seconds) => this.send(pnn, {v: 1, op: 'ban', seconds}, 5000),
      log: this.log.child({component: 'takeover'}),
      onRunFinished: (record) => this.metrics.recordTakeoverRun(record),
    })
    this.metrics = new DaemonMetrics({view: () => this.snapshot(), held: () => this.ip.held()}, {cluster: this.config.name, node: self.name, pnn: this.pnn})
  }

  async start(): Promise<void> {
    await this.events.init()
    this.nc = await connectNats(this.config, `ctdbctl-daemon ${this.config.name} pnn ${this.pnn}`, this.log, this.options.natsServer)
    this.metrics.watchNats(this.nc)
    const s = this.subjects
    this.subs = [
      this.nc.subscribe(s.heartbeatAll, {callback: (_e, m) => this.safely('heartbeat', () => this.onHeartbeat(m))}),
      this.nc.subscribe(s.departureAll, {callback: (_e, m) => this.safely('departure', () => this.onDeparture(m))}),
      this.nc.subscribe(s.admin(this.pnn), {callback: (_e, m) => this.safely('control', () => void this.onControl(m, {kind: 'admin'}))}),
      this.nc.subscribe(s.controlTo(this.pnn), {callback: (_e, m) => this.safely('control', () => void this.onControl(m, {kind: 'node', sender: controlSender(m.subject)}))}),
      this.nc.subscribe(s.status, {queue: STATUS_QUEUE, callback: (_e, m) => this.safely('status', () => m.respond(encode(this.reply({changed: false}))))}),
    ]
    this.db = createDatabaseService({nc: this.nc, cluster: this.config.name, pnn: this.pnn, dataDir: this.options.dataDir, log: this.log.child({component: 'db'}), ban: (pnn) => this.send(pnn, {v: 1, op: 'ban', seconds: Math.round(this.config.tunables.banPeriodMs / 1000)}, 5000),
      onRecovery: (record) => {
        this.lastRecovery = record
        this.metrics.recordRecovery(record.durationMs, record.ok)
      },
    })
    await this.db.start(this.config.databases)
    this.clients = await startClientSurface({nc: this.nc, cluster: this.config.name, pnn: this.pnn, dataDir: this.options.dataDir, nodes: () => this.snapshot().nodes, socket: this.options.socket, db: this.db, onDbRequest: (db, op, ok) => this.metrics.recordDbOp(db, op, ok), log: this.log.child({component: 'clients'})})
    this.ip.start()
    this.ip.connected(this.nc)
    this.events.startup()
    this.log.info({flags: this.flags.flags(), incarnation: this.incarnation}, 'daemon started')
    this.tick()
    this.startTimer()
    this.follower = new ConfigFollower({
      nc: this.nc,
      cluster: this.config.name,
      servers: this.config.nats.servers.length,
      ...(this.options.configText === undefined ? {} : {seed: {yaml: this.options.configText, author: `daemon ${this.self.name}`}}),
      announceSubject: s.configApplied,
      onRevision: (rev) => this.safely('config revision', () => this.onAppliedRevision(rev)),
      log: this.log,
    })
    this.follower.start()
  }

  /** Clean shutdown: release addresses and the lock, announce the departure, close the connection. */
  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    clearInterval(this.timer)
    this.follower?.stop()
    this.flags.dispose()
    await this.clients?.stop()
    await this.db?.stop()
    await this.ip.releaseAll('shutdown')
    await this.groups?.shutdown().catch((e: Error) => this.log.error({err: e}, 'NAT gateway / LVS shutdown failed'))
    await this.ip.stop()
    await this.events.shutdown()
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

  /** Fields on every log line (pino mixin): always the current generation and revision. */
  logContext(): {generation: number; revision: number} {
    return {generation: this.generation, revision: this.configRevision}
  }

  /** This node's view of the cluster (DESIGN.md §4). */
  snapshot(): ClusterState {
    const holders = this.holders()
    return {
      cluster: this.config.name,
      configRevision: this.configRevision,
      generation: this.generation,
      leader: this.leader,
      thisNode: this.pnn,
      nodes: this.config.nodes.map((n) => ({pnn: n.pnn, name: n.name, address: n.address, flags: this.observedFlags(n), ...this.nodeReport(n.pnn)})),
      publicAddresses: this.config.publicAddresses.map((pa) => ({address: pa.address, pnn: this.holderOf(pa.address, holders)})),
      ...(this.takeover.last ? {lastTakeoverRun: this.takeover.last} : {}),
      ...(this.lastRecovery ? {lastRecovery: this.lastRecovery} : {}),
    }
  }

  // ---- config revisions ------------------------------------------------------------------

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
    this.ip.setConfig(config)
    this.events.setConfig(config)
    for (const d of config.databases) this.db?.attach(d.name, d.kind).catch((e: Error) => this.log.error({db: d.name, err: e.message}, 'could not attach a declared database'))
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

  // ---- heartbeats and membership ---------------------------------------------------------

  private startTimer(): void {
    clearInterval(this.timer)
    this.timer = setInterval(() => this.tick(), this.config.tunables.keepaliveIntervalMs)
  }

  private tick(): void {
    const now = performance.now()
    const gap = now - this.lastTickAt
    this.lastTickAt = now
    if (gap > this.deadAfterMs()) this.onPause(gap)
    for (const change of this.membership.tick(performance.now())) this.logMembership(change)
    this.evaluate()
    this.fenceIfCutOff()
    if (this.leader === this.pnn) this.takeover.check()
    if (this.groups && this.configRevision > 0) this.groups.refreshNatgw(this.config, this.snapshot())
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
      converged: this.converged(),
      ...this.configErrorFields(),
      held: this.ip.held(),
      interfaces: this.ip.interfaces(),
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
    if (change) this.logMembership(change)
    // Peers' held addresses and links feed the leader's run trigger, so evaluate on every beat.
    if (change || this.leader === this.pnn) this.evaluate()
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

  // ---- controls ----------------------------------------------------------------------------

  private async onControl(m: Msg, channel: ControlChannel): Promise<void> {
    const req = parseControlRequest(m.data)
    const refusal = typeof req === 'string' ? req : controlRefusal(req.op, channel, this.leader)
    if (refusal !== undefined || typeof req === 'string') {
      this.log.warn({error: refusal, subject: m.subject}, 'rejected a control request')
      m.respond(encode({ok: false, error: refusal ?? 'malformed control request'} satisfies ControlReply))
      return
    }
    let result: Reply
    try {
      result = await this.applyControl(req)
    } catch (e) {
      result = {error: (e as Error).message}
    }
    if ('changed' in result && result.changed && req.op !== 'takeover') this.log.info({op: req.op, seconds: req.seconds}, `control ${req.op} applied`)
    this.evaluate()
    this.publishHeartbeat()
    m.respond(encode(this.reply(result)))
  }

  private async applyControl(req: ControlRequest): Promise<Reply> {
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
      case 'takeover':
        return this.takeoverPhase(req)
      case 'moveip': {
        if (this.leader !== this.pnn) return {error: `node ${this.pnn} is not the leader (the leader is ${this.leader < 0 ? 'unknown' : this.leader})`}
        const why = canHost(this.config, this.snapshot(), req.address!, req.pnn!)
        if (why) return {error: why}
        const run = await this.takeover.moveIp(req.address!, req.pnn!)
        return run.ok ? {changed: true} : {error: `takeover run ${run.run} failed: ${run.error}`}
      }
      case 'event-status':
      case 'event-run':
      case 'event-script':
        return this.events.control(req)
      case 'ipreallocate': {
        if (this.leader !== this.pnn) return {error: `node ${this.pnn} is not the leader (the leader is ${this.leader < 0 ? 'unknown' : this.leader})`}
        const run = await this.takeover.requestRun('requested by an operator')
        return run.ok ? {changed: true} : {error: `takeover run ${run.run} failed: ${run.error}`}
      }
    }
  }

  private async takeoverPhase(req: ControlRequest): Promise<Reply> {
    // A banned or stopped node holds nothing, whatever the leader's view says.
    if (this.isInactive() && req.phase === 'take') return {changed: false}
    switch (req.phase) {
      case 'release':
        this.events.startipreallocate()
        await this.ip.release(req.addresses ?? [])
        break
      case 'take':
        await this.ip.take(req.addresses ?? [])
        this.assignedRevision = req.configRevision ?? this.configRevision
        break
      case 'ipreallocated':
        await this.groups?.ipreallocated(this.config, this.snapshot())
        this.events.ipreallocated()
        break
    }
    return {changed: true}
  }

  private reply(result: Reply): ControlReply {
    if ('error' in result) return {ok: false, error: result.error}
    return {ok: true, changed: result.changed, ...(result.message ? {message: result.message} : {}), ...(result.events ? {events: result.events} : {}), state: this.snapshot()}
  }

  private async send(pnn: number, request: ControlRequest, timeoutMs: number): Promise<void> {
    const msg = await this.nc!.request(this.subjects.control(pnn, this.pnn), encode(request), {timeout: timeoutMs})
    const reply = parseControlReply(msg.data)
    if (!reply) throw new Error(`node ${pnn} sent a malformed reply`)
    if (!reply.ok) throw new Error(reply.error)
  }

  private onLocalFlagsChanged(): void {
    this.log.info({flags: this.flags.flags()}, 'own flags changed')
    if (this.stopping) return
    if (this.isInactive()) void this.ip.releaseAll(`node is ${this.flags.flags().join('|')}`)
    this.evaluate()
    this.publishHeartbeat()
  }

  // ---- leadership, generation, takeover triggers, fencing ---------------------------------

  /** Leadership, generation and run triggers from the current view; idempotent. */
  private evaluate(): void {
    if (this.stopping) return
    const mayLead = canLead(flagBits(this.flags.flags()), this.self.capabilities.leader) && !this.recentlyPaused()
    let leader: number
    if (this.lock) {
      const holder = this.membership.all().find((p) => p.connected && p.heartbeat?.holdsLock)?.pnn
      // As CTDB, nodes race for the lock only when no leader is in sight (an election), not all the time.
      if (mayLead && (this.lock.held || holder === undefined)) this.lock.start()
      else void this.lock.stop()
      leader = this.lock.held ? this.pnn : (holder ?? -1)
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
      if (leader === this.pnn) this.takeover.reset()
      this.leader = leader
      this.runKey = ''
    }
    if (leader >= 0) this.lastLeaderContact = performance.now()
    const generation = this.generation
    this.updateGeneration()
    if (this.generation !== generation && this.generation !== INVALID_GENERATION) this.events.generationChanged()
    this.db?.update(this.databaseView())
    if (this.leader === this.pnn) this.triggerRunOnChange()
  }

  /** The leader starts a takeover run whenever flags, links, membership or the config change. */
  private triggerRunOnChange(): void {
    if (this.configRevision === 0) return // not running the cluster's config yet
    const key = JSON.stringify([this.configRevision, this.snapshot().nodes.map((n) => [n.pnn, n.flags, n.interfaces ?? {}])])
    if (key === this.runKey) return
    this.runKey = key
    void this.takeover.requestRun('cluster changed')
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

  /**
   * After a pause longer than the failure-detection bound the others may have declared this node
   * dead and taken its addresses, and its lock lease may have expired: release the addresses and
   * the lock and take no leader action until the view is fresh again.
   */
  private onPause(gapMs: number): void {
    this.pausedAt = performance.now()
    this.log.warn({gapMs: Math.round(gapMs)}, 'the daemon was paused longer than the failure-detection bound; releasing addresses and the cluster lock')
    void this.ip.releaseAll(`paused for ${Math.round(gapMs)} ms`)
    void this.lock?.stop()
  }

  private recentlyPaused(): boolean {
    return this.pausedAt !== undefined && performance.now() - this.pausedAt < this.deadAfterMs()
  }

  /**
   * Self-fencing: a node that has seen no leader (no lock holder) for recoveryTimeout and is not
   * part of a majority of the cluster's nodes holds nothing, so a minority partition stops
   * answering. A majority keeps its addresses while a new leader is elected (for instance while
   * the lock's JetStream stream elects a new raft leader after a server died).
   */
  private fenceIfCutOff(): void {
    if (this.isInactive()) {
      void this.ip.releaseAll(`node is ${this.flags.flags().join('|')}`)
      return
    }
    const silentMs = performance.now() - this.lastLeaderContact
    if (this.leader >= 0 || silentMs <= this.config.tunables.recoveryTimeoutMs || this.ip.isFenced) return
    const {visible, members} = this.nodesInSight()
    if (2 * visible > members) return
    void this.ip.releaseAll(`no leader or cluster lock for ${Math.round(silentMs)} ms (recoveryTimeout ${this.config.tunables.recoveryTimeoutMs} ms) and only ${visible} of ${members} nodes in sight`)
  }

  /** This node and the peers it hears are more than half of the cluster's nodes. */
  private seesMajority(): boolean {
    const {visible, members} = this.nodesInSight()
    return 2 * visible > members
  }

  /** This node and the peers it hears, against the cluster's (not deleted) nodes. */
  private nodesInSight(): {visible: number; members: number} {
    return {visible: 1 + this.membership.all().filter((p) => p.connected).length, members: this.config.nodes.filter((n) => !n.deleted).length}
  }

  private isInactive(): boolean {
    return (flagBits(this.flags.flags()) & INACTIVE_MASK) !== 0
  }

  private converged(): boolean {
    return this.configRevision > 0 && this.assignedRevision >= this.configRevision && this.ip.matchesAssignment()
  }

  // ---- views -------------------------------------------------------------------------------

  /** What the database service needs: who is active and may be location master (the leader recovers). */
  private databaseView() {
    const active = this.config.nodes.filter((n) => (flagBits(this.observedFlags(n)) & INACTIVE_MASK) === 0)
    return {
      leader: this.leader === this.pnn && !this.recentlyPaused(),
      leaderPnn: this.leader,
      quorate: this.seesMajority() && !this.recentlyPaused(),
      generation: this.generation,
      participants: active.map((n) => n.pnn),
      lmasterCapable: (pnn: number) => this.nodeConfig(pnn)?.capabilities.lmaster ?? false,
      everyNodeActive: active.length === this.config.nodes.filter((n) => !n.deleted).length,
    }
  }

  private holders(): Holder[] {
    const out: Holder[] = [{pnn: this.pnn, held: this.ip.held()}]
    for (const p of this.membership.all()) if (p.connected && p.heartbeat) out.push({pnn: p.pnn, held: p.heartbeat.held})
    return out
  }

  /**
   * Who holds an address. Two claimants happen while a node that was cut off comes back with
   * stale addresses: the one the last takeover run chose wins, else the one connected longest
   * (the returning node is the newcomer).
   */
  private holderOf(address: string, holders: Holder[]): number {
    const claimants = holders.filter((h) => h.held.includes(address)).map((h) => h.pnn)
    if (claimants.length <= 1) return claimants[0] ?? -1
    const assigned = this.takeover.assignedTo(address)
    if (assigned !== undefined && claimants.includes(assigned)) return assigned
    const since = (pnn: number) => (pnn === this.pnn ? -1 : (this.membership.peer(pnn)?.connectedSinceMs ?? Infinity))
    return claimants.reduce((best, p) => (since(p) < since(best) ? p : best))
  }

  private nodeReport(pnn: number): Partial<ClusterState['nodes'][number]> {
    if (pnn === this.pnn) {
      return {interfaces: this.ip.interfaces(), configRevision: this.configRevision, converged: this.converged(), ...this.configErrorFields()}
    }
    const hb = this.membership.peer(pnn)?.heartbeat
    if (!hb) return {}
    return {
      interfaces: hb.interfaces,
      configRevision: hb.configRevision,
      converged: hb.converged,
      ...(hb.configError ? {configError: hb.configError} : {}),
      ...(hb.rejectedRevision !== undefined ? {rejectedRevision: hb.rejectedRevision} : {}),
    }
  }

  private configErrorFields(): {configError?: string; rejectedRevision?: number} {
    return this.configError ? {configError: this.configError.message, rejectedRevision: this.configError.revision} : {}
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

