// Follows the cluster's applied config: seeds an empty cluster with the local file, then hands
// every revision to the daemon — from the KV watch (the guarantee) and from `apply`'s
// announcement (the fast path). JetStream may be briefly unavailable: it retries, never throws.
import type {NatsConnection, Subscription} from '@nats-io/transport-node'
import type {Logger} from 'pino'
import {ConfigStore, sha256, StaleRevisionError, type AppliedRevision} from '../protocol/config-store.js'

export interface ConfigFollowerOptions {
  nc: NatsConnection
  cluster: string
  servers: number
  /** YAML written to the cluster when it holds no config yet. */
  seed?: {yaml: string; author: string}
  announceSubject: string
  onRevision: (rev: AppliedRevision | undefined) => void
  log: Logger
}

export class ConfigFollower {
  private stopped = false
  private stopWatch?: () => void
  private sub?: Subscription

  constructor(private readonly options: ConfigFollowerOptions) {}

  start(): void {
    void this.followWithRetry()
  }

  stop(): void {
    this.stopped = true
    this.stopWatch?.()
    this.sub?.unsubscribe()
  }

  private async followWithRetry(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.follow()
        return
      } catch (e) {
        this.options.log.warn({err: e, attempt}, 'cannot read the applied config from the cluster yet; retrying')
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))))
      }
    }
  }

  private async follow(): Promise<void> {
    const {nc, seed, log, onRevision} = this.options
    const store = await ConfigStore.open(nc, this.options.cluster, this.options.servers)
    if (seed && !(await store.current())) {
      try {
        const rev = await store.write({yaml: seed.yaml, sha256: sha256(seed.yaml), author: seed.author, message: 'seeded from the local cluster file', time: new Date().toISOString()}, 0)
        log.info({revision: rev}, 'seeded the cluster with the local cluster file')
      } catch (e) {
        if (!(e instanceof StaleRevisionError)) throw e
      }
    }
    if (this.stopped) return
    this.stopWatch = await store.watch((rev) => onRevision(rev))
    this.sub = nc.subscribe(this.options.announceSubject, {
      callback: () =>
        void store.current().then(onRevision, (e: unknown) => log.warn({err: e}, 'cannot fetch the announced config revision; the watch will deliver it')),
    })
  }
}
