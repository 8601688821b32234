// The node's local client socket: a Unix domain socket (mode 0660, owner and group configurable)
// speaking length-prefixed frames (framing.ts). Requests carry an id and run concurrently; each
// reply echoes the id. A malformed frame gets an error frame (id 0) and closes that connection
// only. When a connection closes its locks and transactions are released (db.closeOwner) and its
// srvid registrations dropped.
import {rmSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import type {Logger} from 'pino'
import type {DatabaseApi} from '../../db/api.js'
import type {MessagingService} from '../../messaging/service.js'
import {formatSrvid} from '../../messaging/srvid.js'
import {dispatch, type ConnectionContext} from './dispatch.js'
import {DEFAULT_MAX_FRAME, encodeFrame, FrameReader, type Frame, type Header} from './framing.js'
import {listenAtomically, type SocketAccess} from './listen.js'

export interface ClientSocketOptions extends SocketAccess {
  path: string
  pnn: number
  db?: DatabaseApi
  messaging?: MessagingService
  log: Logger
  maxFrame?: number
  /** A client that lets this much output pile up unread is disconnected (default 256 MiB). */
  maxBacklog?: number
  /** Every answered database request (metrics). */
  onDbRequest?: (db: string, op: string, ok: boolean) => void
}

export class ClientSocketServer {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private counter = 0
  private listening = false

  constructor(private readonly options: ClientSocketOptions) {
    this.server = createServer((socket) => this.accept(socket))
  }

  async start(): Promise<void> {
    await listenAtomically(this.server, this.options.path, this.options)
    this.listening = true
    this.options.log.info({path: this.options.path}, 'client socket listening')
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    if (!this.listening) return
    this.listening = false
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    rmSync(this.options.path, {force: true})
  }

  private accept(socket: Socket): void {
    const owner = `client-${process.pid}-${++this.counter}`
    const log = this.options.log.child({client: owner})
    const reader = new FrameReader(this.options.maxFrame ?? DEFAULT_MAX_FRAME)
    // Requests sent with "noReply" that have not finished yet (what a "sync" waits for).
    const unanswered = new Set<Promise<unknown>>()
    const maxBacklog = this.options.maxBacklog ?? 256 * 1024 * 1024
    this.sockets.add(socket)
    const send = (header: Header, parts?: Buffer[]): boolean => {
      if (socket.destroyed) return false
      if (socket.writableLength > maxBacklog) {
        log.warn({backlog: socket.writableLength}, 'client does not read its replies; disconnecting it')
        socket.destroy()
        return false
      }
      return socket.write(encodeFrame(header, parts))
    }
    const ctx: ConnectionContext = {
      pnn: this.options.pnn,
      owner,
      ...(this.options.db ? {db: this.options.db} : {}),
      ...(this.options.messaging ? {messaging: this.options.messaging} : {}),
      push: (header, parts) => {
        if (send(header, parts)) return Promise.resolve(true)
        if (socket.destroyed) return Promise.resolve(false)
        return new Promise((resolve) => {
          const done = () => {
            socket.off('drain', done)
            socket.off('close', done)
            resolve(!socket.destroyed)
          }
          socket.once('drain', done)
          socket.once('close', done)
        })
      },
      onMessage: (registered, srvid, from, data) => void send({id: 0, message: {srvid: formatSrvid(srvid), to: formatSrvid(registered), from}}, [data]),
      settled: async () => void (await Promise.all(unanswered)),
    }
    const handle = (frame: Frame) => {
      const id = frame.header.id
      if (!Number.isSafeInteger(id) || (id as number) <= 0 || typeof frame.header.op !== 'string') {
        throw new Error('every request needs a positive integer "id" and a string "op"')
      }
      const done = dispatch(ctx, frame.header, frame.parts).then((reply) => {
        if (typeof frame.header.db === 'string') this.options.onDbRequest?.(frame.header.db, frame.header.op as string, reply.header.ok === true)
        // A lock or transaction granted after its client left would never be released otherwise.
        if (socket.destroyed) return release()
        const noReply = frame.header.noReply === true
        if (noReply && reply.header.ok === true) return
        try {
          reply.header.id = id
          if (noReply) reply.header.op = frame.header.op
          send(reply.header, reply.parts)
        } catch (e) {
          send({id, ok: false, error: `the reply could not be encoded: ${(e as Error).message}`})
        }
      })
      if (frame.header.noReply === true) {
        unanswered.add(done)
        void done.then(() => unanswered.delete(done))
      }
    }
    const release = () => {
      this.options.messaging?.dropOwner(owner)
      try {
        this.options.db?.closeOwner(owner)
      } catch (e) {
        log.error({err: e}, 'releasing the locks and transactions of a closed client failed')
      }
    }
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of reader.push(chunk)) handle(frame)
      } catch (e) {
        log.warn({err: (e as Error).message}, 'malformed frame from a client; closing its connection')
        send({id: 0, ok: false, error: `malformed frame: ${(e as Error).message}`})
        socket.removeAllListeners('data')
        socket.end()
        setTimeout(() => socket.destroy(), 1000).unref()
      }
    })
    socket.on('error', (e) => log.debug({err: e.message}, 'client socket error'))
    socket.on('close', () => {
      this.sockets.delete(socket)
      release()
    })
  }
}
