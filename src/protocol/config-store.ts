// The applied config of a cluster, in a replicated JetStream KV bucket `<cluster>_config`.
// Key `applied` holds the current revision; writes are compare-and-set against the revision a
// plan was made from. Every revision is also archived under `rev.<N>` (the per-key history of
// JetStream is capped at 64), so `history`, `show` and `rollback` reach every revision.
import {createHash} from 'node:crypto'
import type {NatsConnection} from '@nats-io/transport-node'
import {Kvm, type KV} from '@nats-io/kv'

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

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

export class ConfigStore {
  private constructor(private readonly kv: KV) {}

  /** Opens the bucket, creating it (replicated over up to 3 servers) when it does not exist. */
  static async open(nc: NatsConnection, cluster: string, servers: number): Promise<ConfigStore> {
    const kvm = new Kvm(nc)
    const name = configBucket(cluster)
    try {
      // Creating an existing bucket with the same settings is a no-op.
      return new ConfigStore(await kvm.create(name, {history: 64, replicas: Math.min(3, Math.max(1, servers))}))
    } catch {
      // It exists with other settings (e.g. made when the cluster had fewer servers): use it as is.
      return new ConfigStore(await kvm.open(name))
    }
  }

  async current(): Promise<AppliedRevision | undefined> {
    const e = await this.kv.get(CURRENT)
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
    return {...(e.json() as AppliedConfig), revision: e.revision}
  }

  /**
   * Writes a new revision if the current one is still `baseRevision` (0 = the bucket holds none).
   * Returns the new revision.
   */
  async write(entry: AppliedConfig, baseRevision: number): Promise<number> {
    const data = JSON.stringify(entry)
    let revision: number
    try {
      revision = baseRevision === 0 ? await this.kv.create(CURRENT, data) : await this.kv.update(CURRENT, data, baseRevision)
    } catch (e) {
      const now = (await this.current())?.revision ?? 0
      if (now !== baseRevision) throw new StaleRevisionError(baseRevision, now)
      throw e
    }
    await this.kv.put(ARCHIVE(revision), data)
    return revision
  }

  async get(revision: number): Promise<AppliedRevision | undefined> {
    const e = await this.kv.get(ARCHIVE(revision))
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
