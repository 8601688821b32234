// The parts of raw-socket 1.8 (CommonJS, no bundled types) that src/net uses.
declare module 'raw-socket' {
  import type {EventEmitter} from 'node:events'

  export interface SocketOptions {
    /** IP protocol number (IPPROTO_*); 255 = IPPROTO_RAW. */
    protocol?: number
    /** AddressFamily.IPv4 (1) or AddressFamily.IPv6 (2). */
    addressFamily?: number
    /** Size of the receive buffer handed to recvfrom (default 4096). */
    bufferSize?: number
  }

  export interface Socket extends EventEmitter {
    close(): Socket
    send(buffer: Buffer, offset: number, length: number, address: string, afterCallback: (error: Error | null, bytes: number) => void): Socket
    setOption(level: number, option: number, value: number): void
    pauseRecv(): Socket
    resumeRecv(): Socket
    on(event: 'message', listener: (buffer: Buffer, source: string) => void): this
    on(event: 'error', listener: (error: Error) => void): this
    on(event: 'close', listener: () => void): this
  }

  export function createSocket(options?: SocketOptions): Socket
  export function createChecksum(...parts: Array<Buffer | {buffer: Buffer; offset: number; length: number}>): number

  export const AddressFamily: {IPv4: number; IPv6: number}
  export const Protocol: {None: number; ICMP: number; TCP: number; UDP: number; ICMPv6: number}
  export const SocketLevel: {SOL_SOCKET: number; IPPROTO_IP: number; IPPROTO_IPV6: number}
  export const SocketOption: {
    SO_BROADCAST: number
    SO_RCVBUF: number
    SO_SNDBUF: number
    IP_HDRINCL: number
    IP_TTL: number
    IPV6_V6ONLY: number
  }

  const raw: {
    createSocket: typeof createSocket
    createChecksum: typeof createChecksum
    AddressFamily: typeof AddressFamily
    Protocol: typeof Protocol
    SocketLevel: typeof SocketLevel
    SocketOption: typeof SocketOption
  }
  export default raw
}
