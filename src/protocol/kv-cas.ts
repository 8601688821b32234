// Compare-and-set writes to one key of a JetStream KV bucket that stay exclusive on clustered
// nats-server 2.9: there, concurrent writes expecting the same last sequence *all* pass the
// expected-last-subject-sequence check (measured: 4 of 4 concurrent writes stored on a 3-server
// v2.9.10 cluster). Every write that expects revision R therefore also carries the message id
// `<key>-after-R`: JetStream's duplicate detection (which tracks in-flight ids) lets exactly one
// of them through, and the others come back as duplicates, reported here as a lost race.
import {headers, nanos, type NatsConnection} from '@nats-io/transport-node'
import {jetstreamManager, type JetStreamClient} from '@nats-io/jetstream'

/** Another write expecting the same revision won (or the key had moved on). */
export class CasLostError extends Error {
  constructor(key: string, expected: number) {
    super(`${key}: another write expecting revision ${expected} won`)
  }
}

export interface CasOptions {
  timeoutMs?: number
  /** Write a delete marker instead of a value. */
  delete?: boolean
}

/** Stores `data` (or a delete marker) under `key` if its revision is still `expected` (0 = never written); returns the new revision. */
export async function casWrite(js: JetStreamClient, bucket: string, key: string, data: string | Uint8Array, expected: number, options: CasOptions = {}): Promise<number> {
  const h = options.delete ? headers() : undefined
  h?.set('KV-Operation', 'DEL')
  const ack = await js.publish(`$KV.${bucket}.${key}`, options.delete ? new Uint8Array() : data, {
    msgID: `${key}-after-${expected}`,
    expect: {lastSubjectSequence: expected},
    ...(options.timeoutMs === undefined ? {} : {timeout: options.timeoutMs}),
    ...(h ? {headers: h} : {}),
  })
  if (ack.duplicate) throw new CasLostError(key, expected)
  return ack.seq
}

/** A write refused because the key is no longer at the expected revision. */
export function isWrongLastSequence(error: unknown): boolean {
  const code = (error as {code?: unknown})?.code
  return code === 10071 || code === 10164 || /wrong last sequence/i.test((error as Error)?.message ?? '')
}

/** The key's actual revision, as a refused CAS reports it ("wrong last sequence: N"). */
export function revisionInError(error: unknown): number | undefined {
  const m = /wrong last sequence: (\d+)/i.exec((error as Error)?.message ?? '')
  return m ? Number(m[1]) : undefined
}

/**
 * How long the message ids of a CAS bucket are remembered. Long enough for writes that are in
 * flight together; short, because a write that fails after its leader accepted it (a stream
 * leader cut off from its followers) leaves its id behind, and every later write expecting
 * the same revision is then refused as a duplicate until the id is forgotten (JetStream's
 * default: 2 minutes).
 */
export const CAS_DUPLICATE_WINDOW_MS = 10_000

/** Shortens the stream's duplicate window to CAS_DUPLICATE_WINDOW_MS; best effort (false when not allowed or not reachable). */
export async function limitDuplicateWindow(nc: NatsConnection, stream: string, timeoutMs: number): Promise<boolean> {
  try {
    const jsm = await jetstreamManager(nc, {timeout: timeoutMs})
    const info = await jsm.streams.info(stream)
    if (info.config.duplicate_window > 0 && info.config.duplicate_window <= nanos(CAS_DUPLICATE_WINDOW_MS)) return true
    await jsm.streams.update(stream, {duplicate_window: nanos(CAS_DUPLICATE_WINDOW_MS)})
    return true
  } catch {
    return false
  }
}
