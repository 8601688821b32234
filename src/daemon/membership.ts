// Who is alive, as this node sees it: heartbeats in, DISCONNECTED decisions out.
// Pure bookkeeping with an injected clock (monotonic milliseconds), so it is unit-testable.
import type {Heartbeat} from '../protocol/messages.js'

export interface PeerView {
  pnn: number
  connected: boolean
  heartbeat?: Heartbeat
  lastHeardMs?: number
  /** When the peer last became connected (monotonic ms). */
  connectedSinceMs?: number
}

export interface MembershipChange {
  pnn: number
  connected: boolean
  reason: 'heartbeat' | 'silence' | 'departure' | 'restart'
}

export class Membership {
  private readonly peers = new Map<number, PeerView>()

  constructor(
    /** Non-deleted pnns other than this node. */
    peerPnns: number[],
    private deadAfterMs: number,
  ) {
    for (const pnn of peerPnns) this.peers.set(pnn, {pnn, connected: false})
  }

  setDeadAfter(ms: number): void {
    this.deadAfterMs = ms
  }

  /** Adopts a new peer set (config change); known peers keep their state. */
  setPeers(peerPnns: number[]): void {
    for (const pnn of [...this.peers.keys()]) if (!peerPnns.includes(pnn)) this.peers.delete(pnn)
    for (const pnn of peerPnns) if (!this.peers.has(pnn)) this.peers.set(pnn, {pnn, connected: false})
  }

  heartbeat(hb: Heartbeat, nowMs: number): MembershipChange | undefined {
    const peer = this.peers.get(hb.pnn)
    if (!peer) return undefined
    const restarted = peer.heartbeat !== undefined && peer.heartbeat.incarnation !== hb.incarnation
    if (peer.heartbeat && !restarted && hb.seq <= peer.heartbeat.seq) return undefined // stale or duplicate
    peer.heartbeat = hb
    peer.lastHeardMs = nowMs
    if (!peer.connected) {
      peer.connected = true
      peer.connectedSinceMs = nowMs
      return {pnn: hb.pnn, connected: true, reason: restarted ? 'restart' : 'heartbeat'}
    }
    return undefined
  }

  departure(pnn: number, incarnation: string): MembershipChange | undefined {
    const peer = this.peers.get(pnn)
    if (!peer || !peer.connected || peer.heartbeat?.incarnation !== incarnation) return undefined
    peer.connected = false
    return {pnn, connected: false, reason: 'departure'}
  }

  /** Marks peers silent for longer than the limit as disconnected. */
  tick(nowMs: number): MembershipChange[] {
    const changes: MembershipChange[] = []
    for (const peer of this.peers.values()) {
      if (peer.connected && peer.lastHeardMs !== undefined && nowMs - peer.lastHeardMs > this.deadAfterMs) {
        peer.connected = false
        changes.push({pnn: peer.pnn, connected: false, reason: 'silence'})
      }
    }
    return changes
  }

  peer(pnn: number): PeerView | undefined {
    return this.peers.get(pnn)
  }

  all(): PeerView[] {
    return [...this.peers.values()].sort((a, b) => a.pnn - b.pnn)
  }
}
