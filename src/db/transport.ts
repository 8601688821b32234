// Request/reply between database services over NATS: one subject per node. Replies are either
// {ok: true, ...} with an optional body, or {ok: false, error, retry?}: `retry` means "the
// database is frozen or in another generation: wait for the next thaw and try again".
import type {Msg, NatsConnection, Subscription} from '@nats-io/transport-node'
import {subjects} from '../protocol/subjects.js'
import {frame, unframe, type Head} from './wire.js'

export class RemoteError extends Error {
  constructor(message: string, readonly retry: boolean, readonly noAnswer = false) {
    super(message)
  }
}

/** Thrown by handlers to send {ok: false, retry: true}. */
export class RetryLater extends Error {}

export type Handler = (head: Head, body: Buffer) => Promise<{head?: Head; body?: Uint8Array}>

export function dbSubject(cluster: string, pnn: number): string {
  return subjects(cluster).db(pnn)
}

export class DbTransport {
  private sub?: Subscription

  constructor(private readonly nc: NatsConnection, private readonly cluster: string, private readonly pnn: number) {}

  serve(handler: Handler, onError: (e: unknown) => void): void {
    this.sub = this.nc.subscribe(dbSubject(this.cluster, this.pnn), {
      callback: (_e, m) => void this.handle(m, handler).catch(onError),
    })
  }

  private async handle(m: Msg, handler: Handler): Promise<void> {
    const req = unframe(m.data)
    if (!req || typeof req.head.op !== 'string') {
      m.respond(frame({ok: false, error: 'malformed database request'}))
      return
    }
    try {
      const out = await handler(req.head, req.body)
      m.respond(frame({ok: true, ...out.head}, out.body))
    } catch (e) {
      const retry = e instanceof RetryLater
      m.respond(frame({ok: false, error: (e as Error).message, ...(retry ? {retry: true} : {})}))
    }
  }

  async request(pnn: number, head: Head, body: Uint8Array | undefined, timeoutMs: number): Promise<{head: Head; body: Buffer}> {
    let msg: Msg
    try {
      msg = await this.nc.request(dbSubject(this.cluster, pnn), frame(head, body), {timeout: timeoutMs})
    } catch (e) {
      throw new RemoteError(`node ${pnn} did not answer ${String(head.op)}: ${(e as Error).message}`, true, true)
    }
    const reply = unframe(msg.data)
    if (!reply) throw new RemoteError(`node ${pnn} sent a malformed reply to ${String(head.op)}`, false)
    if (reply.head.ok !== true) throw new RemoteError(`node ${pnn}: ${typeof reply.head.error === 'string' ? reply.head.error : 'failed'}`, reply.head.retry === true)
    return reply
  }

  stop(): void {
    this.sub?.unsubscribe()
  }
}
