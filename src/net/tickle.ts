// One round of tickle ACKs (seq 0, ack 0, window 1234; helpers-spec §3.2): the receiver answers
// with its real sequence numbers, and when that answer reaches a host without the socket (the
// new holder of a public address) that host resets the connection. Fire and forget: no capture.
import {isLinkLocal, type SockAddr} from './addr.js'
import {buildSegment} from './packet.js'

export interface Tickle {
  /** The end we pretend to be. */
  from: SockAddr
  /** The end that receives the tickle. */
  to: SockAddr
}

export interface TickleRoundResult {
  sent: number
  failed: number
}

/** Sends one tickle ACK per entry; `iface` scopes IPv6 link-local destinations. */
export async function sendTickles(tickles: readonly Tickle[], iface: string | undefined, onError: (e: Error) => void): Promise<TickleRoundResult> {
  if (tickles.length === 0) return {sent: 0, failed: 0}
  const {openSendSocket, RawSender} = await import('./raw.js')
  const sender = new RawSender(onError)
  const sockets = new Map<4 | 6, ReturnType<typeof openSendSocket>>()
  try {
    for (const t of tickles) {
      let s = sockets.get(t.to.family)
      if (!s) {
        s = openSendSocket(t.to.family)
        s.on('error', onError)
        sockets.set(t.to.family, s)
      }
      const end = (a: SockAddr) => ({family: a.family, bytes: a.bytes, port: a.port})
      const to = isLinkLocal(t.to) && iface ? `${t.to.address}%${iface}` : t.to.address
      sender.send(s, buildSegment({src: end(t.from), dst: end(t.to), seq: 0, ack: 0, rst: false}), to)
    }
    await sender.drain()
    return {sent: sender.sent, failed: sender.failed}
  } finally {
    for (const s of sockets.values()) s.close()
  }
}
