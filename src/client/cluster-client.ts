// Typed access to a live cluster over NATS, for the CLI and for applications. Never hangs:
// every call has a deadline and fails with one clear sentence.
import {connect, type NatsConnection} from '@nats-io/transport-node'
import type {ClusterState} from '../cluster/state.js'
import type {NatsSettings} from '../config/model.js'
import {encode, parseControlReply, type AdminOp, type ControlReply, type ControlRequest} from '../protocol/messages.js'
import {natsConnectionOptions} from '../protocol/connection.js'
import {subjects} from '../protocol/subjects.js'

export interface ClusterTarget {
  cluster: string
  nats: NatsSettings
}

export class ClusterUnreachableError extends Error {}

export class ClusterClient {
  private readonly subjects: ReturnType<typeof subjects>

  private constructor(
    readonly target: ClusterTarget,
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.subjects = subjects(target.cluster)
  }

  /** The underlying NATS connection (for the config store and watchers). */
  get connection(): NatsConnection {
    return this.nc
  }

  static async connect(target: ClusterTarget, timeoutMs = 3000): Promise<ClusterClient> {
    const {nats} = target
    try {
      const nc = await connect({
        ...natsConnectionOptions(nats, `ctdbctl cli ${target.cluster}`),
        timeout: timeoutMs,
        maxReconnectAttempts: 1,
        reconnectTimeWait: 100,
      })
      return new ClusterClient(target, nc, timeoutMs)
    } catch (e) {
      throw new ClusterUnreachableError(`cannot reach the NATS servers of cluster ${target.cluster} (${nats.servers.join(', ')}): ${(e as Error).message}`)
    }
  }

  /** The cluster as one daemon sees it (any daemon, or the node `pnn`). */
  async status(pnn?: number): Promise<ClusterState> {
    if (pnn !== undefined) {
      const reply = await this.control(pnn, 'status')
      return reply.state
    }
    const reply = await this.request(this.subjects.status, {v: 1, op: 'status'}, 'any daemon')
    return reply.state
  }

  async control(pnn: number, op: AdminOp, seconds?: number): Promise<Extract<ControlReply, {ok: true}>> {
    return this.request(this.subjects.control(pnn), {v: 1, op, ...(seconds === undefined ? {} : {seconds})}, `node ${pnn}`)
  }

  /** An event control (event-status, event-run, event-script) on one node. */
  async eventControl(pnn: number, body: Omit<ControlRequest, 'v'>, timeoutMs?: number): Promise<Extract<ControlReply, {ok: true}>> {
    return this.request(this.subjects.control(pnn), {v: 1, ...body}, `node ${pnn}`, timeoutMs)
  }

  /** Tells the daemons a new config revision is in the store (they also watch it). */
  announceRevision(revision: number): void {
    this.nc.publish(this.subjects.configApplied, encode({v: 1, revision}))
  }

  /** Asks the leader to move an address now (a takeover run with the address pinned). */
  async moveIp(leader: number, address: string, pnn: number): Promise<void> {
    await this.request(this.subjects.control(leader), {v: 1, op: 'moveip', address, pnn}, `the leader (node ${leader})`, 30_000)
  }

  async close(): Promise<void> {
    await this.nc.close()
  }

  private async request(subject: string, body: unknown, who: string, timeoutMs = this.timeoutMs): Promise<Extract<ControlReply, {ok: true}>> {
    let data: Uint8Array
    try {
      data = (await this.nc.request(subject, encode(body), {timeout: timeoutMs})).data
    } catch (e) {
      const msg = (e as Error).message
      if (/no responders/i.test(msg) || (e as {code?: string}).code === '503') {
        throw new ClusterUnreachableError(`no ctdbctl daemon of cluster ${this.target.cluster} answered for ${who}: is it running?`)
      }
      if (/timeout/i.test(msg)) throw new ClusterUnreachableError(`${who} of cluster ${this.target.cluster} did not answer within ${timeoutMs} ms`)
      throw new ClusterUnreachableError(`request to ${who} of cluster ${this.target.cluster} failed: ${msg}`)
    }
    const reply = parseControlReply(data)
    if (!reply) throw new Error(`${who} sent a malformed reply`)
    if (!reply.ok) throw new Error(`${who} refused: ${reply.error}`)
    return reply
  }
}
