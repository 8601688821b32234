// The `<cluster>_tickles` JetStream KV bucket (replicated like the config bucket): one key per
// public address, written by its holder when its connection list changes. Could move onto a
// replicated clustered database once those exist.
import type {NatsConnection} from '@nats-io/transport-node'
import {jetstream} from '@nats-io/jetstream'
import {Kvm, type KV} from '@nats-io/kv'
import {decodeRecord, encodeRecord, fitRecord, tickleKey, type TickleRecord} from './record.js'

const REQUEST_TIMEOUT_MS = 1500
/** Room for the message headers JetStream adds. */
const PAYLOAD_MARGIN = 4096

export function ticklesBucket(cluster: string): string {
  return `${cluster}_tickles`
}

export type MalformedHandler = (key: string, reason: string) => void

export class TickleStore {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly onMalformed: MalformedHandler,
  ) {}

  /** Opens the bucket, creating it (replicas = min(3, servers)) when it does not exist. */
  static async open(nc: NatsConnection, cluster: string, servers: number, onMalformed: MalformedHandler = () => undefined): Promise<TickleStore> {
    const kvm = new Kvm(jetstream(nc, {timeout: REQUEST_TIMEOUT_MS}))
    const name = ticklesBucket(cluster)
    for (let attempt = 1; ; attempt++) {
      const existing = await kvm.open(name, {timeout: REQUEST_TIMEOUT_MS})
      try {
        await existing.status()
        return new TickleStore(nc, existing, onMalformed)
      } catch {
        // not created yet
      }
      try {
        return new TickleStore(nc, await kvm.create(name, {history: 1, replicas: Math.min(3, Math.max(1, servers)), timeout: REQUEST_TIMEOUT_MS}), onMalformed)
      } catch (e) {
        if (attempt >= 8) throw e
        await new Promise((r) => setTimeout(r, 250 * attempt))
      }
    }
  }

  /** Opens the bucket if it exists (readers: no list stored anywhere yet when it does not). */
  static async find(nc: NatsConnection, cluster: string, onMalformed: MalformedHandler = () => undefined): Promise<TickleStore | undefined> {
    const kv = await new Kvm(jetstream(nc, {timeout: REQUEST_TIMEOUT_MS})).open(ticklesBucket(cluster), {timeout: REQUEST_TIMEOUT_MS})
    try {
      await kv.status()
    } catch (e) {
      if (/not found/i.test((e as Error).message)) return undefined
      throw e
    }
    return new TickleStore(nc, kv, onMalformed)
  }

  /** The list of an address; undefined when none was stored or the value is malformed (reported). */
  async get(address: string): Promise<TickleRecord | undefined> {
    const key = tickleKey(address)
    const e = await this.kv.get(key)
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
    const d = decodeRecord(e.value)
    if ('error' in d) {
      this.onMalformed(key, d.error)
      return undefined
    }
    if (d.record.address !== address) {
      this.onMalformed(key, `the record is for ${d.record.address}`)
      return undefined
    }
    if (d.dropped > 0) this.onMalformed(key, `${d.dropped} malformed connection(s) ignored`)
    return d.record
  }

  /**
   * Calls `onList` with every stored list (the current ones first, then each change; undefined
   * for a deleted or malformed one) until the watch ends, e.g. while JetStream is unavailable.
   */
  async watch(onList: (key: string, record: TickleRecord | undefined) => void): Promise<void> {
    for await (const e of await this.kv.watch()) {
      const d = e.operation === 'PUT' && e.length > 0 ? decodeRecord(e.value) : undefined
      onList(e.key, d && !('error' in d) ? d.record : undefined)
    }
  }

  /** Stores the list; returns how many connections did not fit in one NATS message. */
  async put(record: TickleRecord): Promise<number> {
    const max = this.maxPayload()
    const fit = fitRecord(record, max > 0 ? max - PAYLOAD_MARGIN : Infinity)
    await this.kv.put(tickleKey(record.address), encodeRecord(fit.record))
    return fit.dropped
  }

  private maxPayload(): number {
    return this.nc.info?.max_payload ?? 0
  }

  /** Test and recovery hook: raw bytes under an address's key. */
  async putRaw(address: string, data: string): Promise<void> {
    await this.kv.put(tickleKey(address), data)
  }
}
