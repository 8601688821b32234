// Raw IP sockets through the raw-socket native module (loaded lazily: it is only needed by the
// commands that send crafted packets).
//
// Sending: IPv4 uses socket(AF_INET, SOCK_RAW, IPPROTO_RAW) with IP_HDRINCL set, as CTDB, so the
// source address of the crafted header is used even though it is not ours (the module cannot
// bind). IPv6 uses socket(AF_INET6, SOCK_RAW, IPPROTO_RAW): Linux treats IPPROTO_RAW on an IPv6
// raw socket as "header included" (the equivalent of IPV6_HDRINCL), so the whole crafted IPv6
// header, source address included, goes out as built; sendto's destination port is 0 (the module
// always passes 0), which Linux requires for IPPROTO_RAW, as CTDB notes.
//
// Receiving: socket(AF_INET, SOCK_RAW, IPPROTO_TCP) gets a copy of every TCP segment delivered to
// this host, IPv4 header included. On IPv6 the kernel strips the IP header: the message is the TCP
// segment and only the source address is known (recvfrom), not the destination.
import {createRequire} from 'node:module'
import type * as RawSocketModule from 'raw-socket'

type RawModule = typeof RawSocketModule
export type RawSocket = RawSocketModule.Socket

const IPPROTO_TCP = 6
const IPPROTO_RAW = 255
const BUFFER_BYTES = 8 * 1024 * 1024
// Linux: the *FORCE variants (root) are not capped by net.core.rmem_max / wmem_max.
const SO_SNDBUFFORCE = 32
const SO_RCVBUFFORCE = 33

let loaded: RawModule | undefined

export class RawSocketError extends Error {}

export function loadRawSocket(): RawModule {
  if (!loaded) {
    try {
      loaded = createRequire(import.meta.url)('raw-socket') as RawModule
    } catch (e) {
      throw new RawSocketError(`the raw-socket native module is not available (${(e as Error).message.split('\n')[0]}); run npm ci with its install script allowed`)
    }
  }
  return loaded
}

function create(family: 4 | 6, protocol: number, bufferSize?: number): RawSocket {
  const raw = loadRawSocket()
  try {
    return raw.createSocket({protocol, addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6, bufferSize})
  } catch (e) {
    throw new RawSocketError(`cannot open a raw IPv${family} socket (${(e as Error).message})${process.getuid?.() === 0 ? '' : ': raw sockets need root or CAP_NET_RAW'}`)
  }
}

function setBuffer(s: RawSocket, force: number, plain: number): void {
  const raw = loadRawSocket()
  try {
    if (process.platform === 'linux') {
      s.setOption(raw.SocketLevel.SOL_SOCKET, force, BUFFER_BYTES)
      return
    }
  } catch {
    // not privileged enough for the forced size: fall back to the capped one
  }
  s.setOption(raw.SocketLevel.SOL_SOCKET, plain, BUFFER_BYTES)
}

/** A socket that sends complete, hand-built IP packets. */
export function openSendSocket(family: 4 | 6): RawSocket {
  const raw = loadRawSocket()
  const s = create(family, IPPROTO_RAW)
  try {
    if (family === 4) s.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1)
    setBuffer(s, SO_SNDBUFFORCE, raw.SocketOption.SO_SNDBUF)
  } catch (e) {
    s.close()
    throw new RawSocketError(`cannot configure the raw IPv${family} send socket (${(e as Error).message})`)
  }
  // An IPPROTO_RAW socket never receives: do not poll it for input.
  s.pauseRecv()
  return s
}

/** A socket that receives copies of the TCP segments delivered to this host. */
export function openTcpCaptureSocket(family: 4 | 6): RawSocket {
  const raw = loadRawSocket()
  const s = create(family, IPPROTO_TCP, 256)
  try {
    setBuffer(s, SO_RCVBUFFORCE, raw.SocketOption.SO_RCVBUF)
  } catch (e) {
    s.close()
    throw new RawSocketError(`cannot configure the raw IPv${family} capture socket (${(e as Error).message})`)
  }
  return s
}

/** raw-socket's native handle: `send` is a synchronous sendto() that calls back before returning. */
interface NativeWrap {
  send(buffer: Buffer, offset: number, length: number, address: string, callback: (bytes: number) => void): void
}

const TRANSIENT = /temporarily unavailable|no buffer space|would block/i

/**
 * Sends packets on raw sockets. A packet goes out at once with a synchronous sendto() on the
 * module's native handle (raw-socket's public send() waits for a writable-poll event for every
 * packet, which costs an epoll round trip each and delays a batch of tickles); only when the
 * kernel says "try again" (EAGAIN/ENOBUFS) do packets go through the public, poll-driven queue,
 * which then keeps the order until it is empty.
 */
export class RawSender {
  private queued = new Map<RawSocket, number>()
  private waiters: Array<() => void> = []
  sent = 0
  failed = 0

  constructor(private readonly onError: (e: Error) => void) {}

  send(socket: RawSocket, packet: Buffer, address: string): void {
    const wrap = (socket as unknown as {wrap?: NativeWrap}).wrap
    if (wrap && typeof wrap.send === 'function' && !this.queued.get(socket)) {
      try {
        wrap.send(packet, 0, packet.length, address, () => undefined)
        this.sent++
        return
      } catch (e) {
        if (!TRANSIENT.test((e as Error).message)) {
          this.failed++
          this.onError(e as Error)
          return
        }
      }
    }
    this.queued.set(socket, (this.queued.get(socket) ?? 0) + 1)
    socket.send(packet, 0, packet.length, address, (error) => {
      this.queued.set(socket, this.queued.get(socket)! - 1)
      if (error) {
        this.failed++
        this.onError(error)
      } else {
        this.sent++
      }
      if (this.idle()) for (const w of this.waiters.splice(0)) w()
    })
  }

  private idle(): boolean {
    for (const n of this.queued.values()) if (n > 0) return false
    return true
  }

  /** Resolves when every queued packet has been handed to the kernel. */
  drain(): Promise<void> {
    return this.idle() ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve))
  }
}
