// The killtcp engine: CTDB's ctdb_killtcp algorithm (helpers-spec §3.3) over raw sockets.
//
// For every connection (impersonate A, reset B): send B a "tickle ACK" from A (seq 0, ack 0),
// which B's TCP answers with an ACK carrying its real sequence numbers; capture that reply (a
// segment from B to A) and send B an RST from A with seq = the reply's ack and ack = the reply's
// seq, which is exactly in window. Schedule, as CTDB: a round at t = 0 and then 100 ms after the
// previous one, each sending tickles to the first 300 connections still pending (always from the
// start of the set, so large sets go in waves); a connection leaves the set on the first
// matching reply; stop when the set is empty or after 50 rounds, without waiting for replies to
// the last round. Captured segments with window 1234 and (RST or seq 0) are our own and ignored.
// Duplicate (A, B) pairs collapse.
//
// One deliberate difference: CTDB notices an empty set only at its next round (up to 100 ms
// later); this engine finishes as soon as the last RST has been handed to the kernel. No packet
// differs: that extra round would send nothing.
//
// Capture (see pcap.ts and raw.ts for why): `pcap` = tcpdump on all interfaces, both directions,
// before netfilter (CTDB's view); `raw` = raw IPPROTO_TCP sockets in this process, which only
// see segments delivered to this host (enough when every end to reset is remote and no firewall
// drops the replies); `auto` (default) = both when tcpdump is available, the first reply from
// either removes the connection; without tcpdump it warns and uses raw only.
import {isLinkLocal, parseIp, type SockAddr} from './addr.js'
import {formatConnection, type KillConnection} from './connections.js'
import {silentLogger, type Logger} from './log.js'
import {buildSegment, isOwnSegment, parseIpPacket, parseTcpHeader, type CapturedSegment} from './packet.js'
import {CaptureStartError, startTcpdumpCapture, type TcpdumpCapture} from './pcap.js'

export const KILLTCP_MAX_ATTEMPTS = 50
export const KILLTCP_RETRY_INTERVAL_MS = 100
export const KILLTCP_BATCH_SIZE = 300

export type CaptureMode = 'auto' | 'raw' | 'pcap'

export interface KillTcpOptions {
  /** Interface name. Like CTDB's AF_PACKET capture, capture ignores it; it scopes IPv6 link-local destinations. */
  iface?: string
  capture?: CaptureMode
  logger?: Logger
  /** tcpdump executable for pcap capture. */
  tcpdump?: string
  maxAttempts?: number
  retryIntervalMs?: number
  batchSize?: number
}

export interface KillTcpResult {
  /** Distinct connections attempted (duplicates collapsed). */
  total: number
  /** Connections for which a reply was captured and an RST sent. */
  reset: number
  /** Connections never answered within the rounds. */
  remaining: KillConnection[]
  rounds: number
  tickles: number
  elapsedMs: number
  capture: {raw: boolean; pcap: boolean}
}

/** Capture could not be set up: CTDB prints "Failed to open capture socket ..." and exits 255. */
export class KillTcpCaptureError extends Error {}

interface Entry {
  conn: KillConnection
  key: string
  tickle: Buffer
  /** Destination for sendto (the reset end), with %scope for link-local IPv6. */
  to: string
}

function hex(b: Buffer): string {
  return b.toString('hex')
}

/** Key of a segment travelling from the reset end to the impersonated end. */
function replyKey(family: 4 | 6, src: Buffer, sport: number, dst: Buffer, dport: number): string {
  return `${family}|${hex(src)}|${sport}|${hex(dst)}|${dport}`
}

function endpoint(a: SockAddr) {
  return {family: a.family, bytes: a.bytes, port: a.port}
}

/** At most this many host clauses narrow the capture filter; beyond, every TCP segment is passed. */
export const MAX_FILTER_HOSTS = 32

/**
 * Host clauses that every reply the engine waits for satisfies: a reply travels from the reset
 * end B to the impersonated end A, so it matches `src host B` or `dst host A`. A greedy cover
 * picks the clause matching the most remaining connections first: CTDB's releaseip input (both
 * directions between one public address L and many clients) needs only `dst host L or src host L`.
 * Returns [] when more than MAX_FILTER_HOSTS clauses would be needed. Narrowing drops only
 * segments that could not match, so the outcome is the same; it spares a busy server from
 * piping all its TCP traffic through the capture (CTDB's packet socket reads every frame).
 */
export function replyHostClauses(connections: KillConnection[]): string[] {
  let left = connections.map((c) => ({src: c.reset.address, dst: c.impersonate.address}))
  const clauses: string[] = []
  while (left.length > 0) {
    if (clauses.length >= MAX_FILTER_HOSTS) return []
    const counts = new Map<string, number>()
    for (const r of left) {
      counts.set(`src host ${r.src}`, (counts.get(`src host ${r.src}`) ?? 0) + 1)
      counts.set(`dst host ${r.dst}`, (counts.get(`dst host ${r.dst}`) ?? 0) + 1)
    }
    let best = ''
    let bestCount = -1
    for (const [clause, n] of counts) {
      if (n > bestCount) {
        best = clause
        bestCount = n
      }
    }
    clauses.push(best)
    const [dir, , host] = best.split(' ')
    left = left.filter((r) => (dir === 'src' ? r.src : r.dst) !== host)
  }
  return clauses
}

/** BPF filter passing the TCP segments the engine could use (not its own), narrowed by host clauses when given. */
export function captureFilter(families: Set<4 | 6>, hostClauses: string[] = []): string {
  const parts: string[] = []
  if (families.has(4)) parts.push('(ip and tcp and not (tcp[14:2] = 1234 and (tcp[13] & 4 != 0 or tcp[4:4] = 0)))')
  if (families.has(6)) parts.push('(ip6 and ip6[6] = 6 and not (ip6[54:2] = 1234 and (ip6[53] & 4 != 0 or ip6[44:4] = 0)))')
  const f = parts.join(' or ')
  return hostClauses.length > 0 ? `(${f}) and (${hostClauses.join(' or ')})` : f
}

export async function killTcp(connections: KillConnection[], options: KillTcpOptions = {}): Promise<KillTcpResult> {
  const started = performance.now()
  const log = options.logger ?? silentLogger
  const maxAttempts = options.maxAttempts ?? KILLTCP_MAX_ATTEMPTS
  const interval = options.retryIntervalMs ?? KILLTCP_RETRY_INTERVAL_MS
  const batchSize = options.batchSize ?? KILLTCP_BATCH_SIZE
  const mode = options.capture ?? 'auto'

  const pending = new Map<string, Entry>()
  for (const conn of connections) {
    const {impersonate: a, reset: b} = conn
    const key = replyKey(b.family, b.bytes, b.port, a.bytes, a.port)
    const to = isLinkLocal(b) && options.iface ? `${b.address}%${options.iface}` : b.address
    if (pending.has(key)) continue // duplicates collapse (same key, same packets)
    pending.set(key, {conn, key, tickle: buildSegment({src: endpoint(a), dst: endpoint(b), seq: 0, ack: 0, rst: false}), to})
  }
  const total = pending.size
  const result = (rounds: number, tickles: number, capture: {raw: boolean; pcap: boolean}): KillTcpResult => ({
    total,
    reset: total - pending.size,
    remaining: [...pending.values()].map((e) => e.conn),
    rounds,
    tickles,
    elapsedMs: performance.now() - started,
    capture,
  })
  if (total === 0) return result(0, 0, {raw: false, pcap: false})

  const families = new Set([...pending.values()].map((e) => e.conn.reset.family))
  // IPv6 raw capture knows the source of a reply but not its destination: index by (source, ports).
  const bySource6 = new Map<string, Entry[]>()
  if (families.has(6)) {
    for (const e of pending.values()) {
      if (e.conn.reset.family !== 6) continue
      const k = `${hex(e.conn.reset.bytes)}|${e.conn.reset.port}|${e.conn.impersonate.port}`
      const list = bySource6.get(k)
      if (list) list.push(e)
      else bySource6.set(k, [e])
    }
  }

  const {openSendSocket, openTcpCaptureSocket, RawSender} = await import('./raw.js')
  const sockets: Array<{close(): unknown}> = []
  let pcap: TcpdumpCapture | undefined
  let finish: () => void = () => undefined
  const done = new Promise<void>((resolve) => (finish = resolve))
  let finished = false
  let rounds = 0
  let tickles = 0
  let timer: NodeJS.Timeout | undefined

  const sender = new RawSender((e) => log.log('ERROR', `Error sending TCP packet (${e.message})`))
  const closeAll = async () => {
    for (const s of sockets.splice(0)) s.close()
    await pcap?.close()
  }

  try {
    const send = new Map<4 | 6, ReturnType<typeof openSendSocket>>()
    for (const f of families) {
      const s = openSendSocket(f)
      sockets.push(s)
      send.set(f, s)
      s.on('error', (e) => log.log('ERROR', `Raw IPv${f} send socket error (${e.message})`))
    }

    const onSegment = (s: CapturedSegment, entry?: Entry) => {
      if (finished) return
      if (isOwnSegment(s)) return
      const e = entry ?? pending.get(replyKey(s.family, s.src, s.sport, s.dst, s.dport))
      if (!e || !pending.has(e.key)) return
      pending.delete(e.key)
      if (log.enabled('INFO')) log.log('INFO', `Sending a TCP RST for connection ${formatConnection(e.conn)}`)
      const {impersonate: a, reset: b} = e.conn
      sender.send(send.get(b.family)!, buildSegment({src: endpoint(a), dst: endpoint(b), seq: s.ack, ack: s.seq, rst: true}), e.to)
      if (pending.size === 0) finish()
    }

    const rawWanted = mode === 'raw' || mode === 'auto'
    const pcapWanted = mode === 'pcap' || mode === 'auto'
    if (pcapWanted) {
      try {
        pcap = await startTcpdumpCapture({
          filter: captureFilter(families, replyHostClauses([...pending.values()].map((e) => e.conn))),
          command: options.tcpdump,
          onSegment: (s) => onSegment(s),
          onError: (e) => log.log('ERROR', `Packet capture failed (${e.message})`),
        })
        log.log('DEBUG', `Capturing with tcpdump (pid ${pcap.pid}) on all interfaces, ready after ${Math.round(performance.now() - started)} ms`)
      } catch (e) {
        if (mode === 'pcap' || !(e instanceof CaptureStartError)) throw new KillTcpCaptureError(`Failed to open capture socket on iface '${options.iface ?? 'any'}' (${(e as Error).message})`)
        log.log('ERROR', `Packet capture with tcpdump unavailable (${(e as Error).message}); using raw sockets only: replies sent by this host (connections whose reset end is local) are not seen`)
      }
    }
    if (rawWanted) {
      for (const f of families) {
        let s: ReturnType<typeof openTcpCaptureSocket>
        try {
          s = openTcpCaptureSocket(f)
        } catch (e) {
          throw new KillTcpCaptureError(`Failed to open capture socket on iface '${options.iface ?? 'any'}' (${(e as Error).message})`)
        }
        sockets.push(s)
        s.on('error', (e) => log.log('ERROR', `Raw IPv${f} capture socket error (${e.message})`))
        if (f === 4) {
          s.on('message', (buf) => {
            const seg = parseIpPacket(buf)
            if (seg) onSegment(seg)
          })
        } else {
          s.on('message', (buf, source) => {
            const sport = buf.length >= 4 ? buf.readUInt16BE(0) : -1
            const dport = buf.length >= 4 ? buf.readUInt16BE(2) : -1
            let srcBytes: Buffer
            try {
              srcBytes = parseIp(source.split('%')[0]).bytes
            } catch {
              return
            }
            if (srcBytes.length !== 16) return
            const candidates = bySource6.get(`${hex(srcBytes)}|${sport}|${dport}`)?.filter((c) => pending.has(c.key))
            // Only an unambiguous match: without the destination address two connections could share this key.
            if (!candidates || candidates.length !== 1) return
            const seg = parseTcpHeader(6, srcBytes, candidates[0].conn.impersonate.bytes, buf, 0, buf.length)
            if (seg) onSegment(seg, candidates[0])
          })
        }
      }
    }
    const capture = {raw: rawWanted && sockets.length > send.size, pcap: pcap !== undefined}
    if (!capture.raw && !capture.pcap) throw new KillTcpCaptureError(`Failed to open capture socket on iface '${options.iface ?? 'any'}' (no capture method available)`)

    const round = () => {
      timer = undefined
      if (finished) return
      let n = 0
      for (const e of pending.values()) {
        if (n >= batchSize) break
        n++
        if (log.enabled('DEBUG')) log.log('DEBUG', `Sending tickle ACK for connection '${formatConnection(e.conn)}'`)
        sender.send(send.get(e.conn.reset.family)!, e.tickle, e.to)
      }
      tickles += n
      rounds++
      if (pending.size === 0 || rounds >= maxAttempts) finish()
      else timer = setTimeout(round, interval)
    }
    setImmediate(round)
    await done
    finished = true
    if (timer) clearTimeout(timer)
    await sender.drain()
    const res = result(rounds, tickles, capture)
    log.log('INFO', `Killed ${res.reset}/${res.total} TCP connections in ${res.rounds} rounds, ${Math.round(res.elapsedMs)} ms`)
    return res
  } finally {
    finished = true
    if (timer) clearTimeout(timer)
    await closeAll()
  }
}
