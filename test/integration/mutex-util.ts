// Shared plumbing for the cluster mutex integration tests: spawn helpers through ClusterMutex,
// record what happened when, and clean every process up by pid even when a test fails.
import {ClusterMutex, LockKeeper, type ClusterMutexOptions, type LockKeeperOptions, type LockResult} from '../../src/daemon/mutex/cluster-mutex.js'
import {BIN} from '../helpers/cli.js'

export const CTDB_FCNTL_HELPER = '/usr/libexec/ctdb/ctdb_mutex_fcntl_helper'

/** argv running our built CLI: `node bin/run.js ARGS…`. */
export function ours(...args: string[]): string[] {
  return [process.execPath, BIN, ...args]
}

export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export interface Tracked {
  name: string
  mutex: ClusterMutex
  logs: string[]
  result?: LockResult
  /** ms (Date.now) at which '0' was read */
  heldAt?: number
  /** ms at which 'lost' fired */
  lostAt?: number
}

/** Holding intervals [start, end) as seen by the daemon side; end undefined = still held. */
export interface Interval {
  name: string
  start: number
  end?: number
}

export class Processes {
  private readonly mutexes: ClusterMutex[] = []
  private readonly keepers: LockKeeper[] = []
  private readonly pids = new Set<number>()
  readonly intervals: Interval[] = []

  /** Spawns a helper and waits for its status; records its holding interval. */
  async lock(name: string, argv: string[], options: Partial<ClusterMutexOptions> = {}): Promise<Tracked> {
    const logs: string[] = []
    const mutex = new ClusterMutex({argv, timeoutMs: 30_000, log: (line) => logs.push(line), ...options})
    this.mutexes.push(mutex)
    const t: Tracked = {name, mutex, logs}
    mutex.on('lost', () => {
      t.lostAt = Date.now()
      const open = this.intervals.find((i) => i.name === name && i.end === undefined)
      if (open) open.end = t.lostAt
    })
    t.result = await mutex.lock()
    if (mutex.pid) this.pids.add(mutex.pid)
    if (t.result.status === '0') {
      t.heldAt = Date.now()
      this.intervals.push({name, start: t.heldAt})
    }
    return t
  }

  /** Releases a tracked helper and closes its interval. */
  async release(t: Tracked): Promise<void> {
    await t.mutex.release()
    const open = this.intervals.find((i) => i.name === t.name && i.end === undefined)
    if (open) open.end = Date.now()
  }

  /** A LockKeeper whose holds are recorded as intervals named `name`. */
  keeper(name: string, options: LockKeeperOptions): LockKeeper {
    const k = new LockKeeper(options)
    this.keepers.push(k)
    k.on('attempt', () => setImmediate(() => k.helperPid && this.pids.add(k.helperPid)))
    k.on('held', () => this.intervals.push({name, start: Date.now()}))
    const close = () => {
      const open = this.intervals.find((i) => i.name === name && i.end === undefined)
      if (open) open.end = Date.now()
    }
    k.on('lost', close)
    k.on('stopped', close)
    return k
  }

  /** Names whose intervals overlap, e.g. ["a/b"]: must stay empty. */
  overlaps(): string[] {
    const found: string[] = []
    for (const a of this.intervals) {
      for (const b of this.intervals) {
        if (a === b || a.name >= b.name) continue
        const aEnd = a.end ?? Infinity
        const bEnd = b.end ?? Infinity
        if (a.start < bEnd && b.start < aEnd) found.push(`${a.name}[${a.start},${a.end ?? '…'}) / ${b.name}[${b.start},${b.end ?? '…'})`)
      }
    }
    return found
  }

  /** Processes started some other way, killed by cleanup(). */
  adopt(...pids: (number | undefined)[]): void {
    for (const pid of pids) if (pid !== undefined) this.pids.add(pid)
  }

  /** Stops keepers, releases helpers, then SIGKILLs any pid still alive. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.keepers.splice(0).map((k) => k.stop()))
    await Promise.allSettled(this.mutexes.splice(0).map((m) => m.release()))
    for (const pid of this.pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
    this.pids.clear()
    this.intervals.length = 0
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
