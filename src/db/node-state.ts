// The state one node's database service shares between its parts: open databases, the
// database generation and VNN map set by the last recovery, the freeze gate (client calls
// wait while frozen; inter-node requests are told to retry), and calls to other nodes.
import {join} from 'node:path'
import type {Logger} from 'pino'
import type {DbKind} from './api.js'
import {hashlittle} from './hash.js'
import {checkDbName, LocalDb} from './store.js'
import {RemoteError, RetryLater, type DbTransport, type Handler} from './transport.js'
import type {Head} from './wire.js'

/** CTDB's "no valid generation". */
export const INVALID_GENERATION = 1

export class DbNode {
  readonly dbs = new Map<string, LocalDb>()
  private readonly opening = new Map<string, Promise<LocalDb>>()
  generation = INVALID_GENERATION
  /** Frozen until the first recovery thaws this node. */
  frozen = true
  /**
   * Cut off from a majority of the cluster: serve nothing (like frozen) until a recovery that
   * includes this node thaws it, so an isolated node can neither commit alone nor hand out
   * records the majority has recovered elsewhere.
   */
  fenced = false
  freezeGen = INVALID_GENERATION
  vnnmap: number[] = []
  participants: number[] = []
  recmaster = -1
  private thawWaiters: (() => void)[] = []
  /** Client record locks held and operations in flight that a freeze waits for. */
  private active = 0
  private idleWaiters: (() => void)[] = []
  private freezeListeners = new Set<() => void>()
  private closed = false
  /** Set by the service: handles requests addressed to this node. */
  handler?: Handler

  constructor(readonly pnn: number, readonly dataDir: string, readonly transport: DbTransport, readonly log: Logger) {}

  /** Frozen for recovery or fenced: no client work may start. */
  get halted(): boolean {
    return this.frozen || this.fenced
  }

  /** Resolves once this node is thawed (at once when it is). */
  async ready(): Promise<void> {
    for (;;) {
      if (this.closed) throw new Error(`the database service of node ${this.pnn} has stopped`)
      if (!this.halted) return
      await new Promise<void>((resolve) => this.thawWaiters.push(resolve))
    }
  }

  /** Resolves at the next thaw, or after `timeoutMs`. */
  nextThaw(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.thawWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Inter-node requests: refuse (retry later) unless thawed in generation `gen`. */
  checkGeneration(gen: number): void {
    if (this.frozen) throw new RetryLater(`node ${this.pnn} is frozen for recovery`)
    if (this.fenced) throw new RetryLater(`node ${this.pnn} is cut off from the majority`)
    if (gen !== this.generation) throw new RetryLater(`node ${this.pnn} is in generation ${this.generation}, not ${gen}`)
  }

  /** Work a freeze must wait for: call right after a synchronous generation check passed. */
  enter(): void {
    this.active++
  }

  leave(): void {
    this.active--
    if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w()
  }

  /**
   * `p`, or undefined as soon as this node freezes: a request to a node that died must not
   * hold a record lock, or keep a freeze waiting, until its timeout.
   */
  async untilFrozen<T>(p: Promise<T>): Promise<T | undefined> {
    if (this.halted) return undefined
    let listener!: () => void
    const frozen = new Promise<undefined>((resolve) => (listener = () => resolve(undefined)))
    this.freezeListeners.add(listener)
    try {
      return await Promise.race([p, frozen])
    } finally {
      this.freezeListeners.delete(listener)
    }
  }

  /** Recovery's freeze: new client work waits; resolves when the work in flight has finished. */
  async freeze(gen: number, timeoutMs: number): Promise<void> {
    this.frozen = true
    this.freezeGen = gen
    for (const l of [...this.freezeListeners]) l()
    if (this.active === 0) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${this.pnn}: ${this.active} record locks or operations still in flight after ${timeoutMs} ms`)), timeoutMs)
      this.idleWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** This node lost sight of a majority: new work waits, work in flight is abandoned as on a freeze. */
  fence(): void {
    if (this.fenced || this.closed) return
    this.fenced = true
    this.log.warn('cut off from the majority: databases fenced until a recovery includes this node')
    for (const l of [...this.freezeListeners]) l()
  }

  checkFrozenFor(gen: number): void {
    if (!this.frozen || this.freezeGen !== gen) throw new Error(`node ${this.pnn} is not frozen for recovery generation ${gen}`)
  }

  thaw(gen: number, vnnmap: number[], participants: number[], recmaster: number): void {
    this.checkFrozenFor(gen)
    this.generation = gen
    this.vnnmap = vnnmap
    this.participants = participants
    this.recmaster = recmaster
    this.frozen = false
    this.fenced = false
    for (const w of this.thawWaiters.splice(0)) w()
  }

  lmaster(key: Buffer): number {
    return this.vnnmap[hashlittle(key) % this.vnnmap.length]!
  }

  /** Sends a request to a node; this node's own requests are handled in-process. */
  async call(pnn: number, head: Head, body: Uint8Array | undefined, timeoutMs: number): Promise<{head: Head; body: Buffer}> {
    if (pnn !== this.pnn) return this.transport.request(pnn, head, body, timeoutMs)
    try {
      const out = await this.handler!(head, Buffer.from(body ?? []))
      return {head: {ok: true, ...out.head}, body: Buffer.from(out.body ?? [])}
    } catch (e) {
      throw new RemoteError((e as Error).message, e instanceof RetryLater)
    }
  }

  /** Opens (creating) a database; an existing one with another kind is an error. */
  async open(name: string, kind: DbKind): Promise<LocalDb> {
    const bad = checkDbName(name)
    if (bad) throw new Error(bad)
    const existing = this.dbs.get(name)
    if (existing) {
      if (existing.kind !== kind) throw new Error(`database ${name} is ${existing.kind}, not ${kind}`)
      return existing
    }
    let pending = this.opening.get(name)
    if (!pending) {
      pending = LocalDb.open(name, kind, join(this.dataDir, 'db'))
      this.opening.set(name, pending)
      pending.then((db) => this.dbs.set(name, db), () => undefined).finally(() => this.opening.delete(name))
    }
    const db = await pending
    if (db.kind !== kind) throw new Error(`database ${name} is ${db.kind}, not ${kind}`)
    return db
  }

  db(name: string, kinds?: readonly DbKind[]): LocalDb {
    const db = this.dbs.get(name)
    if (!db) throw new Error(`no database ${JSON.stringify(name)} is attached`)
    if (kinds && !kinds.includes(db.kind)) throw new Error(`database ${name} is ${db.kind}; this needs ${kinds.join(' or ')}`)
    return db
  }

  async close(): Promise<void> {
    this.closed = true
    this.frozen = true
    for (const w of this.thawWaiters.splice(0)) w()
    for (const l of [...this.freezeListeners]) l()
    await Promise.all([...this.dbs.values()].map((db) => db.close().catch(() => undefined)))
    this.dbs.clear()
  }
}
