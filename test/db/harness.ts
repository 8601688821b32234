// Several database services in this process, each with its own NATS connection to a real
// nats-server: the test plays the daemon (it tells the leader who is active). `kill` drops a
// node's connection without a word, as a kill -9 would.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import pino from 'pino'
import {createDatabaseService, type DatabaseService} from '../../src/db/index.js'
import {startNatsServers, stopNatsServers, type NatsServerHandle} from '../../src/dev/nats-servers.js'
import {waitFor} from '../helpers/wait.js'

/**
 * Lets pending I/O run. A local fetchLock + store never waits for I/O, so an in-process client
 * loop must yield between iterations (as socket clients do), or other nodes' NATS requests never
 * get in.
 */
export const yieldToIo = () => new Promise<void>((r) => setImmediate(r))

export class DbHarness {
  readonly services: (DatabaseService | undefined)[] = []
  private readonly conns: (NatsConnection | undefined)[] = []
  private viewGeneration = 1
  private vacuumIntervalMs?: number
  /** Nodes the leader's recovery asked to ban, in order. */
  readonly bans: number[] = []

  private constructor(readonly dir: string, readonly servers: NatsServerHandle[], readonly cluster: string) {}

  static async start(nodes: number, declared: {name: string; kind: 'volatile' | 'persistent' | 'replicated'}[] = [], options: {vacuumIntervalMs?: number} = {}): Promise<DbHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-db-'))
    const servers = await startNatsServers({count: 1, dir})
    const h = new DbHarness(dir, servers, `t${process.pid}`)
    h.vacuumIntervalMs = options.vacuumIntervalMs
    try {
      for (let pnn = 0; pnn < nodes; pnn++) await h.startNode(pnn, declared)
      await h.recover()
    } catch (e) {
      await h.stop()
      throw e
    }
    return h
  }

  async startNode(pnn: number, declared: {name: string; kind: 'volatile' | 'persistent' | 'replicated'}[] = []): Promise<DatabaseService> {
    const nc = await connect({servers: this.servers[0]!.url})
    const svc = createDatabaseService({nc, cluster: this.cluster, pnn, dataDir: join(this.dir, `node${pnn}`), log: pino({level: process.env.CTDBCTL_TEST_DB_LOG ?? 'silent'}), ban: async (p) => void this.bans.push(p), ...(this.vacuumIntervalMs ? {vacuumIntervalMs: this.vacuumIntervalMs} : {})})
    await svc.start(declared)
    this.services[pnn] = svc
    this.conns[pnn] = nc
    return svc
  }

  svc(pnn: number): DatabaseService {
    const s = this.services[pnn]
    if (!s) throw new Error(`node ${pnn} is not running`)
    return s
  }

  alive(): number[] {
    return this.services.flatMap((s, i) => (s ? [i] : []))
  }

  /** The lowest live node leads and recovers with every live node; resolves when all are thawed in its generation. */
  async recover(timeoutMs = 60_000): Promise<void> {
    const alive = this.alive()
    const leader = this.svc(alive[0]!)
    const before = leader.lastRecovery
    leader.update({leader: true, leaderPnn: alive[0]!, quorate: true, generation: ++this.viewGeneration, participants: alive, lmasterCapable: () => true})
    await waitFor(
      'a database recovery',
      () => {
        const r = leader.lastRecovery
        if (!r || r === before) return undefined
        return alive.every((p) => !this.svc(p).frozen && this.svc(p).generation === r.generation) ? r : undefined
      },
      timeoutMs,
      20,
    )
  }

  /** Like kill -9: the node's NATS connection goes away without unsubscribing or answering. */
  async kill(pnn: number): Promise<void> {
    const svc = this.services[pnn]
    const nc = this.conns[pnn]
    this.services[pnn] = undefined
    this.conns[pnn] = undefined
    await nc?.close().catch(() => undefined)
    await svc?.stop().catch(() => undefined)
  }

  async stop(): Promise<void> {
    for (const pnn of this.alive()) await this.kill(pnn)
    await stopNatsServers(this.servers)
    rmSync(this.dir, {recursive: true, force: true})
  }
}
