// Messaging between clients on any node (core-spec §4.8): srvid registrations of this node's
// clients, sending to a node or a broadcast over NATS, delivery to every local registration of
// the srvid plus SRVID_ALL. Each node listens on its own subject; a broadcast is published to
// every target node's subject one by one, so all messages from one sender to one node travel on
// one subject over one connection and NATS keeps their order. No acknowledgement: a message for
// a node that is down or has no registration is dropped silently, as in CTDB.
import type {Logger} from 'pino'
import type {NatsConnection, Subscription} from '@nats-io/transport-node'
import {flagBits, INACTIVE_MASK, NODE_FLAG_BITS, type NodeFlag} from '../cluster/state.js'
import {subjects} from '../protocol/subjects.js'
import {SRVID_ALL, type Destination} from './srvid.js'
import {encodeMessage, parseMessage, type WireMessage} from './wire.js'

export type Deliver = (m: WireMessage) => void

export interface NodeView {
  pnn: number
  flags: readonly NodeFlag[]
}

export interface MessagingOptions {
  nc: NatsConnection
  cluster: string
  pnn: number
  /** Every node of the cluster with the flags this node observes. */
  nodes: () => NodeView[]
  log: Logger
}

/** Which nodes a destination names, from this node's view (pure; exported for tests). */
export function targetsOf(dest: Destination, self: number, nodes: readonly NodeView[]): number[] | string {
  const bits = (n: NodeView) => flagBits(n.flags)
  switch (dest) {
    case 'current':
      return [self]
    case 'all':
      return nodes.filter((n) => (bits(n) & NODE_FLAG_BITS.DELETED) === 0).map((n) => n.pnn)
    case 'active':
      return nodes.filter((n) => (bits(n) & INACTIVE_MASK) === 0).map((n) => n.pnn)
    case 'connected':
      return nodes.filter((n) => (bits(n) & (NODE_FLAG_BITS.DISCONNECTED | NODE_FLAG_BITS.DELETED)) === 0).map((n) => n.pnn)
    default: {
      const node = nodes.find((n) => n.pnn === dest)
      if (!node || (bits(node) & NODE_FLAG_BITS.DELETED) !== 0) return `node ${dest} is not in the cluster`
      return [dest]
    }
  }
}

export class MessagingService {
  /** srvid → owner (client connection) → delivery. */
  private readonly registrations = new Map<bigint, Map<string, Deliver>>()
  private readonly subjects: ReturnType<typeof subjects>
  private sub?: Subscription

  constructor(private readonly options: MessagingOptions) {
    this.subjects = subjects(options.cluster)
  }

  start(): void {
    this.sub = this.options.nc.subscribe(this.subjects.message(this.options.pnn), {
      callback: (_e, m) => {
        const msg = parseMessage(m.data)
        if (!msg) {
          this.options.log.warn({subject: m.subject, bytes: m.data.length}, 'dropped a malformed client message')
          return
        }
        this.deliver(msg)
      },
    })
  }

  stop(): void {
    this.sub?.unsubscribe()
    this.registrations.clear()
  }

  register(owner: string, srvid: bigint, deliver: Deliver): void {
    let owners = this.registrations.get(srvid)
    if (!owners) this.registrations.set(srvid, (owners = new Map()))
    owners.set(owner, deliver)
  }

  /** False when the owner had no such registration. */
  deregister(owner: string, srvid: bigint): boolean {
    const owners = this.registrations.get(srvid)
    const had = owners?.delete(owner) ?? false
    if (owners?.size === 0) this.registrations.delete(srvid)
    return had
  }

  /** Drops every registration of a closed connection. */
  dropOwner(owner: string): void {
    for (const srvid of [...this.registrations.keys()]) this.deregister(owner, srvid)
  }

  /** Does any local client have this srvid registered (CTDB's CHECK_SRVID). */
  isRegistered(srvid: bigint): boolean {
    return this.registrations.has(srvid)
  }

  /** Publishes to every target node; returns their pnns, or an error for an unknown node. */
  send(dest: Destination, srvid: bigint, data: Buffer): number[] | string {
    const targets = targetsOf(dest, this.options.pnn, this.options.nodes())
    if (typeof targets === 'string') return targets
    const payload = encodeMessage({srvid, from: this.options.pnn, data})
    for (const pnn of targets) this.options.nc.publish(this.subjects.message(pnn), payload)
    return targets
  }

  private deliver(msg: WireMessage): void {
    for (const srvid of msg.srvid === SRVID_ALL ? [SRVID_ALL] : [msg.srvid, SRVID_ALL]) {
      for (const deliver of this.registrations.get(srvid)?.values() ?? []) {
        try {
          deliver(msg)
        } catch (e) {
          this.options.log.error({err: e}, 'delivering a client message failed')
        }
      }
    }
  }
}
