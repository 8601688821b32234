// The applied config of a cluster, in a replicated JetStream KV bucket `<cluster>_config`.
// Key `applied` holds the current revision; writes are compare-and-set against the revision a
// plan was made from. Every revision is also archived under `rev.<N>` (the per-key history of
// JetStream is capped at 64), so `history`, `show` and `rollback` reach every revision.
import type {NatsConnection} from '@nats-io/transport-node'
import {jetstream, type JetStreamClient} from '@nats-io/jetstream'
import {Kvm, type KV} from '@nats-io/kv'
import {casWrite, limitDuplicateWindow} from './kv-cas.js'
export {sha256} from '../cluster/plan/document.js'

export interface AppliedConfig {
  /** The YAML exactly as applied. */
  yaml: string
  sha256: string
  author: string
  message?: string
  /** ISO time of the write. */
  time: string
  /** One line saying what changed (from the plan). */
  summary?: string
}

export interface AppliedRevision extends AppliedConfig {
  revision: number
}

const CURRENT = 'applied'
/** Short, so that a stream still electing its leader (just created) is retried soon. */
const REQUEST_TIMEOUT_MS = 1500
const ARCHIVE = (rev: number) => `rev.${String(rev).padStart(10, '0')}`

export class StaleRevisionError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`the cluster changed since this plan was made (revision ${expected}, now ${actual})`)
  }
}

export function configBucket(cluster: string): string {
  return `${cluster}_config`
}

export class ConfigStore {
  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly bucket: string,
  ) {}

  /** Opens the bucket, creating it (replicated over up to 3 servers) when it does not exist. */
  static async open(nc: NatsConnection, cluster: string, servers: number): Promise<ConfigStore> {
    const js = jetstream(nc, {timeout: REQUEST_TIMEOUT_MS})
    const kvm = new Kvm(js)
    const name = configBucket(cluster)
    for (let attempt = 1; ; attempt++) {
      // Open first: creating a bucket that several daemons create at the same moment can stall
      // the JetStream API for seconds, while binding to an existing one is immediate.
      const existing = await kvm.open(name, {timeout: REQUEST_TIMEOUT_MS})
      try {
        await existing.status()
        return new ConfigStore(existing, js, name)
      } catch {
        // not created yet
      }
      try {
        const kv = await kvm.create(name, {history: 64, replicas: Math.min(3, Math.max(1, servers)), timeout: REQUEST_TIMEOUT_MS})
        await limitDuplicateWindow(nc, `KV_${name}`, REQUEST_TIMEOUT_MS)
        return new ConfigStore(kv, js, name)
      } catch (e) {
        if (attempt >= 8) throw e
        await pause(250 * attempt)
      }
    }
  }

  async current(): Promise<AppliedRevision | undefined> {
    const e = await retryTransient(() => this.kv.get(CURRENT))
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
    return {...(e.json() as AppliedConfig), revision: e.revision}
  }

  /**
   * Writes a new revision if the current one is still `baseRevision` (0 = the bucket holds none).
   * Returns the new revision.
   */
  async write(entry: AppliedConfig, baseRevision: number): Promise<number> {
    const data = JSON.stringify(entry)
    const deadline = Date.now() + TRANSIENT_BUDGET_MS
    for (let attempt = 1; ; attempt++) {
      try {
        const revision = await casWrite(this.js, this.bucket, CURRENT, data, baseRevision)
        await retryTransient(() => this.kv.put(ARCHIVE(revision), data))
        return revision
      } catch (e) {
        // A write whose reply was lost may have been stored (a retry then comes back as a
        // duplicate): the stored entry itself says whether it is ours.
        const now = await this.currentRaw()
        if (now && now.raw === data) {
          await retryTransient(() => this.kv.put(ARCHIVE(now.revision), data))
          return now.revision
        }
        if ((now?.revision ?? 0) !== baseRevision) throw new StaleRevisionError(baseRevision, now?.revision ?? 0)
        // Still at the base revision: nothing was stored, so retrying with the same message id is safe.
        if (!isTransient(e) || Date.now() > deadline) throw e
        await pause(Math.min(1000, 100 * attempt))
      }
    }
  }

  private async currentRaw(): Promise<{revision: number; raw: string} | undefined> {
    const e = await retryTransient(() => this.kv.get(CURRENT))
    if (!e || e.operation !== 'PUT') return undefined
    return {revision: e.revision, raw: e.string()}
  }

  async get(revision: number): Promise<AppliedRevision | undefined> {
    const e = await retryTransient(() => this.kv.get(ARCHIVE(revision)))
    if (!e || e.operation !== 'PUT') return undefined
    return {...(e.json() as AppliedConfig), revision}
  }

  /** Every archived revision, oldest first. */
  async history(): Promise<AppliedRevision[]> {
    const keys: string[] = []
    for await (const k of await this.kv.keys('rev.*')) keys.push(k)
    const out: AppliedRevision[] = []
    for (const k of keys.sort()) {
      const rev = await this.get(Number(k.slice(4)))
      if (rev) out.push(rev)
    }
    return out
  }

  /** Calls `onRevision` with the current revision and every later one; returns a stop function. */
  async watch(onRevision: (rev: AppliedRevision | undefined, raw: Uint8Array) => void): Promise<() => void> {
    const iter = await this.kv.watch({key: CURRENT})
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') continue
        let parsed: AppliedRevision | undefined
        try {
          parsed = {...(e.json() as AppliedConfig), revision: e.revision}
        } catch {
          parsed = undefined
        }
        onRevision(parsed, e.value)
      }
    })()
    return () => iter.stop()
  }

  /** Test and recovery hook: writes raw bytes as the current revision, bypassing every check. */
  async putRaw(data: string): Promise<number> {
    return this.kv.put(CURRENT, data)
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

const TRANSIENT_BUDGET_MS = 10_000

const isTransient = (e: unknown) => /temporarily unavailable|timeout|no responders|no suitable peers|leader/i.test((e as Error).message)

/** Reads retried while JetStream is briefly unavailable (a server died and its streams are electing leaders): up to about 10 s. */
async function retryTransient<T>(read: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + TRANSIENT_BUDGET_MS
  for (let attempt = 1; ; attempt++) {
    try {
      return await read()
    } catch (e) {
      if (!isTransient(e) || Date.now() > deadline) throw e
      await pause(Math.min(1000, 100 * attempt))
    }
  }
}
