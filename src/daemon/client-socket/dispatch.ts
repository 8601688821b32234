// What each request of the client socket does (docs/protocol.md, "Client socket"): database
// calls go to the DatabaseApi, messaging calls to the MessagingService.
import type {DatabaseApi, RecordHeader} from '../../db/api.js'
import {formatSrvid} from '../../messaging/srvid.js'
import type {MessagingService} from '../../messaging/service.js'
import type {Header} from './framing.js'
import {destination, int, kind, part, RequestError, srvid, str} from './requests.js'

export interface Reply {
  header: Header
  parts?: Buffer[]
}

export interface ConnectionContext {
  pnn: number
  /** The connection's owner id for locks, transactions and registrations. */
  owner: string
  db?: DatabaseApi
  messaging?: MessagingService
  /** Sends a frame to this client, resolving once the socket can take more; false once the client is gone. */
  push(header: Header, parts?: Buffer[]): Promise<boolean>
  /** Delivers a message that matched this connection's registration `registered`. */
  onMessage(registered: bigint, srvid: bigint, from: number, data: Buffer): void
  /** Resolves once every "noReply" request this connection sent so far has finished. */
  settled(): Promise<void>
}

type Handler = (ctx: ConnectionContext, h: Header, parts: Buffer[]) => Promise<Reply> | Reply

const ok = (fields: Header = {}, parts?: Buffer[]): Reply => ({header: fields, ...(parts ? {parts} : {})})
const rec = (header: RecordHeader, data: Buffer | undefined): Reply => (data === undefined ? ok({header, found: false}) : ok({header, found: true}, [data]))

function db(ctx: ConnectionContext): DatabaseApi {
  if (!ctx.db) throw new RequestError('the database service is not running on this node')
  return ctx.db
}

function messaging(ctx: ConnectionContext): MessagingService {
  if (!ctx.messaging) throw new RequestError('messaging is not running on this node')
  return ctx.messaging
}

const handlers: Record<string, Handler> = {
  hello: (ctx) => ok({pnn: ctx.pnn}),
  sync: async (ctx) => {
    await ctx.settled()
    return ok()
  },
  list: (ctx) => ok({dbs: db(ctx).list()}),
  attach: async (ctx, h) => ok({info: await db(ctx).attach(str(h, 'db'), kind(h))}),
  fetch: async (ctx, h, p) => {
    const r = await db(ctx).fetch(str(h, 'db'), part(p, 0, 'key'))
    return rec(r.header, r.data)
  },
  fetchLock: async (ctx, h, p) => {
    const r = await db(ctx).fetchLock(ctx.owner, str(h, 'db'), part(p, 0, 'key'))
    const reply = rec(r.header, r.data)
    reply.header.handle = r.handle
    return reply
  },
  // store writes and ends the lock (one round trip for the common fetchLock → store → unlock;
  // none when the client sends it with "noReply").
  store: async (ctx, h, p) => {
    await db(ctx).store(ctx.owner, int(h, 'handle'), part(p, 0, 'data'), true)
    return ok()
  },
  release: (ctx, h) => {
    db(ctx).release(ctx.owner, int(h, 'handle'))
    return ok()
  },
  delete: async (ctx, h, p) => {
    await db(ctx).delete(str(h, 'db'), part(p, 0, 'key'))
    return ok()
  },
  traverse: async (ctx, h) => {
    const id = h.id
    let count = 0
    for await (const r of db(ctx).traverse(str(h, 'db'))) {
      if (!(await ctx.push({id, record: r.header}, [r.key, r.data]))) break
      count++
    }
    return ok({count})
  },
  txStart: async (ctx, h) => ok({tx: await db(ctx).transactionStart(ctx.owner, str(h, 'db'))}),
  txGet: async (ctx, h, p) => {
    const data = await db(ctx).transactionGet(ctx.owner, int(h, 'tx'), part(p, 0, 'key'))
    return data === undefined ? ok({found: false}) : ok({found: true}, [data])
  },
  txPut: (ctx, h, p) => {
    db(ctx).transactionPut(ctx.owner, int(h, 'tx'), part(p, 0, 'key'), part(p, 1, 'data'))
    return ok()
  },
  txDelete: (ctx, h, p) => {
    db(ctx).transactionDelete(ctx.owner, int(h, 'tx'), part(p, 0, 'key'))
    return ok()
  },
  txCommit: async (ctx, h) => ok(await db(ctx).transactionCommit(ctx.owner, int(h, 'tx'))),
  txCancel: (ctx, h) => {
    db(ctx).transactionCancel(ctx.owner, int(h, 'tx'))
    return ok()
  },
  wipe: async (ctx, h) => {
    await db(ctx).wipe(str(h, 'db'))
    return ok()
  },
  register: (ctx, h) => {
    const id = srvid(h)
    messaging(ctx).register(ctx.owner, id, (m) => ctx.onMessage(id, m.srvid, m.from, m.data))
    return ok()
  },
  deregister: (ctx, h) => {
    const id = srvid(h)
    if (!messaging(ctx).deregister(ctx.owner, id)) throw new RequestError(`srvid ${formatSrvid(id)} is not registered by this connection`)
    return ok()
  },
  checkSrvid: (ctx, h) => ok({registered: messaging(ctx).isRegistered(srvid(h))}),
  send: (ctx, h, p) => {
    const targets = messaging(ctx).send(destination(h), srvid(h), p[0] ?? Buffer.alloc(0))
    if (typeof targets === 'string') throw new RequestError(targets)
    return ok({targets})
  },
}

const OPS = Object.keys(handlers)

/** Runs one request; every failure becomes an error reply. Synchronous handlers (send) run before this returns. */
export async function dispatch(ctx: ConnectionContext, h: Header, parts: Buffer[]): Promise<Reply> {
  const handler = Object.hasOwn(handlers, h.op as string) ? handlers[h.op as string] : undefined
  if (!handler) return {header: {ok: false, error: `unknown op "${String(h.op)}"; known ops are ${OPS.join(', ')}`}}
  try {
    const reply = await handler(ctx, h, parts)
    reply.header.ok = true
    return reply
  } catch (e) {
    return {header: {ok: false, error: e instanceof Error ? e.message : String(e)}}
  }
}
