// Typed client of a node's local daemon socket (docs/protocol.md, "Client socket"): databases
// (attach, fetch, fetchLock/store/release, delete, traverse, transactions, wipe) and messaging
// (register a srvid, send to a node or broadcast, receive). Applications import this module.
import {connect as netConnect, type Socket} from 'node:net'
import type {DbInfo, DbKind, RecordHeader, TraverseRecord} from '../db/api.js'
import {DEFAULT_MAX_FRAME, encodeFrame, FrameReader, type Frame, type Header} from '../daemon/client-socket/framing.js'
import {parseSrvid, SRVID_ALL, type Destination} from '../messaging/srvid.js'
import {resolveSocketPath} from './socket-path.js'

export type {DbInfo, DbKind, RecordHeader, TraverseRecord}
export {SRVID_ALL}

export type Bytes = Buffer | Uint8Array | string
export type Srvid = bigint | number | string

export interface Message {
  /** The srvid the message was sent to. */
  srvid: bigint
  /** PNN of the sending node. */
  from: number
  data: Buffer
}

export type MessageHandler = (m: Message) => void

export interface FetchResult {
  header: RecordHeader
  /** undefined when there is no record. */
  data?: Buffer
}

/**
 * A record held under its per-record lock until store() (which writes and unlocks) or release().
 * Both are sent without waiting for the daemon, as a CTDB client stores and unlocks a local
 * record without a daemon round trip: they resolve once sent. The daemon handles a connection's
 * requests in the order sent and a store is readable (by any client) as soon as it is handled,
 * so the client's later calls see it. Should one fail, the client's next call rejects with that
 * error; sync() waits until all of them are handled and close() syncs first.
 */
export interface LockedRecord extends FetchResult {
  store(data: Bytes): Promise<void>
  release(): Promise<void>
}

export interface Transaction {
  readonly id: number
  get(key: Bytes): Promise<Buffer | undefined>
  put(key: Bytes, data: Bytes): Promise<void>
  delete(key: Bytes): Promise<void>
  /** Resolves with the database's new sequence number. */
  commit(): Promise<{seqnum: number}>
  cancel(): Promise<void>
}

export class CtdbError extends Error {}

const bytes = (b: Bytes): Buffer => (typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength))

function srvidOf(v: Srvid): bigint {
  const id = parseSrvid(v)
  if (id === undefined) throw new CtdbError(`invalid srvid ${String(v)}: expected an unsigned 64-bit number`)
  return id
}

interface Pending {
  resolve(f: Frame): void
  reject(e: Error): void
  /** Traverse records pushed before the final reply. */
  onRecord?(f: Frame): void
}

/** A traverse whose records are queued until the consumer takes them. */
class RecordQueue implements AsyncIterator<TraverseRecord> {
  private readonly records: TraverseRecord[] = []
  private waiter?: {resolve(r: IteratorResult<TraverseRecord>): void; reject(e: Error): void}
  private done = false
  private abandoned = false
  private error?: Error

  constructor(private readonly socket: Socket) {}

  add(r: TraverseRecord): void {
    if (this.abandoned) return
    if (this.waiter) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve({value: r, done: false})
      return
    }
    this.records.push(r)
    if (this.records.length > 4096) this.socket.pause()
  }

  end(error?: Error): void {
    this.done = true
    this.error = error
    const w = this.waiter
    this.waiter = undefined
    if (w && error) w.reject(error)
    else w?.resolve({value: undefined, done: true})
  }

  /** The consumer stopped early: drop what is queued and what still arrives. */
  return(): Promise<IteratorResult<TraverseRecord>> {
    this.abandoned = true
    this.records.length = 0
    if (this.socket.isPaused()) this.socket.resume()
    return Promise.resolve({value: undefined, done: true})
  }

  next(): Promise<IteratorResult<TraverseRecord>> {
    const r = this.records.shift()
    if (this.records.length < 1024 && this.socket.isPaused()) this.socket.resume()
    if (r) return Promise.resolve({value: r, done: false})
    if (this.done) return this.error ? Promise.reject(this.error) : Promise.resolve({value: undefined, done: true})
    return new Promise((resolve, reject) => (this.waiter = {resolve, reject}))
  }
}

export class CtdbClient {
  private readonly pending = new Map<number, Pending>()
  private readonly handlers = new Map<bigint, Set<MessageHandler>>()
  private readonly reader = new FrameReader(DEFAULT_MAX_FRAME)
  private nextId = 1
  private closed?: Error
  /** The first failure of a request sent without waiting, reported by the next call. */
  private deferred?: CtdbError
  /** Requests were sent without waiting since the last sync. */
  private unsynced = false
  /** This node's PNN. */
  pnn = -1

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of this.reader.push(chunk)) this.onFrame(f)
      } catch (e) {
        this.fail(new CtdbError(`malformed frame from the daemon: ${(e as Error).message}`))
      }
    })
    socket.on('error', (e) => this.fail(new CtdbError(`daemon socket: ${e.message}`)))
    socket.on('close', () => this.fail(new CtdbError('the connection to the daemon was closed')))
  }

  /** Connects to the local daemon (socket path: argument, $CTDBCTL_SOCKET, node settings, default). */
  static async connect(socketPath?: string): Promise<CtdbClient> {
    const path = resolveSocketPath(socketPath)
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect(path)
      s.once('connect', () => {
        s.off('error', reject)
        resolve(s)
      })
      s.once('error', (e) => reject(new CtdbError(`cannot connect to the daemon socket ${path}: ${e.message}`)))
    })
    const client = new CtdbClient(socket)
    const hello = await client.request({op: 'hello'})
    client.pnn = hello.header.pnn as number
    return client
  }

  /** Closes the connection once the stores and releases sent so far are done; rejects if one failed. */
  async close(): Promise<void> {
    if (this.closed) return
    let failure: Error | undefined
    if (this.unsynced || this.deferred) await this.sync().catch((e: Error) => (failure = e))
    this.fail(new CtdbError('the client was closed'))
    await new Promise<void>((resolve) => {
      if (this.socket.closed) resolve()
      else this.socket.once('close', () => resolve())
      this.socket.end()
    })
    if (failure) throw failure
  }

  /** Resolves once every store and release sent so far is done; rejects with the first that failed. */
  async sync(): Promise<void> {
    await this.request({op: 'sync'})
    this.unsynced = false
    this.takeDeferred()
  }

  // ---- databases -----------------------------------------------------------------------

  async list(): Promise<DbInfo[]> {
    return (await this.request({op: 'list'})).header.dbs as DbInfo[]
  }

  async attach(db: string, kind: DbKind = 'volatile'): Promise<DbInfo> {
    return (await this.request({op: 'attach', db, kind})).header.info as DbInfo
  }

  async fetch(db: string, key: Bytes): Promise<FetchResult> {
    return record(await this.request({op: 'fetch', db}, [bytes(key)]))
  }

  async fetchLock(db: string, key: Bytes): Promise<LockedRecord> {
    const f = await this.request({op: 'fetchLock', db}, [bytes(key)])
    const handle = f.header.handle as number
    let done = false
    const once = () => {
      if (done) throw new CtdbError('this record lock was already stored or released')
      done = true
    }
    return {
      ...record(f),
      store: async (data) => {
        once()
        this.sendOnly({op: 'store', handle}, [bytes(data)])
      },
      release: async () => {
        once()
        this.sendOnly({op: 'release', handle})
      },
    }
  }

  async delete(db: string, key: Bytes): Promise<void> {
    await this.request({op: 'delete', db}, [bytes(key)])
  }

  async wipe(db: string): Promise<void> {
    await this.request({op: 'wipe', db})
  }

  /** Every record of the database across the cluster, streamed. */
  traverse(db: string): AsyncIterable<TraverseRecord> {
    return {
      [Symbol.asyncIterator]: () => {
        const queue = new RecordQueue(this.socket)
        const onRecord = (f: Frame) => queue.add({header: f.header.record as RecordHeader, key: f.parts[0] ?? Buffer.alloc(0), data: f.parts[1] ?? Buffer.alloc(0)})
        this.request({op: 'traverse', db}, [], onRecord).then(() => queue.end(), (e: Error) => queue.end(e))
        return queue
      },
    }
  }

  async transaction(db: string): Promise<Transaction> {
    const tx = (await this.request({op: 'txStart', db})).header.tx as number
    return {
      id: tx,
      get: async (key) => {
        const f = await this.request({op: 'txGet', tx}, [bytes(key)])
        return f.header.found ? f.parts[0] : undefined
      },
      put: async (key, data) => void (await this.request({op: 'txPut', tx}, [bytes(key), bytes(data)])),
      delete: async (key) => void (await this.request({op: 'txDelete', tx}, [bytes(key)])),
      commit: async () => ({seqnum: (await this.request({op: 'txCommit', tx})).header.seqnum as number}),
      cancel: async () => void (await this.request({op: 'txCancel', tx})),
    }
  }

  // ---- messaging -----------------------------------------------------------------------

  /** Registers a srvid on this node and calls `handler` for each message sent to it. */
  async register(srvid: Srvid, handler: MessageHandler): Promise<void> {
    const id = srvidOf(srvid)
    let set = this.handlers.get(id)
    if (!set) {
      this.handlers.set(id, (set = new Set()))
      try {
        await this.request({op: 'register', srvid: id.toString()})
      } catch (e) {
        this.handlers.delete(id)
        throw e
      }
    }
    set.add(handler)
  }

  async deregister(srvid: Srvid): Promise<void> {
    const id = srvidOf(srvid)
    if (!this.handlers.delete(id)) throw new CtdbError(`srvid ${String(srvid)} is not registered by this client`)
    await this.request({op: 'deregister', srvid: id.toString()})
  }

  /** Does any client of this node have the srvid registered. */
  async checkSrvid(srvid: Srvid): Promise<boolean> {
    return (await this.request({op: 'checkSrvid', srvid: srvidOf(srvid).toString()})).header.registered as boolean
  }

  /**
   * Sends to a node (pnn or 'current') or a broadcast ('all', 'active', 'connected'); resolves
   * with the target nodes once the daemon has sent it. No delivery acknowledgement (as CTDB).
   */
  async send(dest: Destination, srvid: Srvid, data: Bytes = Buffer.alloc(0)): Promise<number[]> {
    return (await this.request({op: 'send', dest, srvid: srvidOf(srvid).toString()}, [bytes(data)])).header.targets as number[]
  }

  broadcast(srvid: Srvid, data: Bytes = Buffer.alloc(0), to: 'all' | 'active' | 'connected' = 'connected'): Promise<number[]> {
    return this.send(to, srvid, data)
  }

  // ---- plumbing ------------------------------------------------------------------------

  private request(header: Header, parts: Buffer[] = [], onRecord?: (f: Frame) => void): Promise<Frame> {
    if (this.closed) return Promise.reject(this.closed)
    if (this.deferred && header.op !== 'sync') {
      try {
        this.takeDeferred()
      } catch (e) {
        return Promise.reject(e as Error)
      }
    }
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject, ...(onRecord ? {onRecord} : {})})
      header.id = id
      this.socket.write(encodeFrame(header, parts))
    })
  }

  /** Sends a request whose success the daemon does not answer (a failure comes back with its id). */
  private sendOnly(header: Header, parts: Buffer[] = []): void {
    if (this.closed) throw this.closed
    this.unsynced = true
    header.id = this.nextId++
    header.noReply = true
    this.socket.write(encodeFrame(header, parts))
  }

  private takeDeferred(): void {
    const e = this.deferred
    this.deferred = undefined
    if (e) throw e
  }

  private onFrame(f: Frame): void {
    const h = f.header
    if (h.id === 0) {
      if (h.message && typeof h.message === 'object') this.onMessage(h.message as Record<string, unknown>, f.parts[0] ?? Buffer.alloc(0))
      else if (h.ok === false) this.fail(new CtdbError(`the daemon closed the connection: ${String(h.error)}`))
      return
    }
    const p = this.pending.get(h.id as number)
    if (!p) {
      // Only a request sent without waiting is answered without being pending: it failed.
      if (h.ok === false) this.deferred ??= new CtdbError(`an earlier ${typeof h.op === 'string' ? h.op : 'request'} failed: ${String(h.error)}`)
      return
    }
    if (h.record !== undefined) {
      p.onRecord?.(f)
      return
    }
    this.pending.delete(h.id as number)
    if (h.ok === true) p.resolve(f)
    else p.reject(new CtdbError(typeof h.error === 'string' ? h.error : 'the daemon refused the request'))
  }

  private onMessage(m: Record<string, unknown>, data: Buffer): void {
    const srvid = parseSrvid(m.srvid)
    const to = parseSrvid(m.to)
    if (srvid === undefined || to === undefined) return
    for (const handler of this.handlers.get(to) ?? []) handler({srvid, from: m.from as number, data})
  }

  private fail(e: Error): void {
    if (this.closed) return
    this.closed = e
    for (const p of this.pending.values()) p.reject(e)
    this.pending.clear()
    this.socket.destroy()
  }
}

function record(f: Frame): FetchResult {
  return {header: f.header.header as RecordHeader, ...(f.header.found ? {data: f.parts[0]} : {})}
}
