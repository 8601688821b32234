// The daemon side of CTDB's cluster mutex helper protocol (helpers-spec.md §4.2).
//
// A helper is any program: we spawn its argv directly (never through a shell) with stdin
// ignored, stdout a pipe and stderr captured line by line for the daemon's log. The first byte
// it writes is the status: '0' lock held, '1' contention, '2' timeout, '3' error. Anything else
// first (another byte, EOF, a failed spawn) counts as '3'. After '0', EOF on stdout or the
// helper's exit means the lock is lost; further bytes are ignored (CTDB's etcd helper writes '0'
// on every refresh). Releasing is SIGTERM to the helper (SIGKILL after a grace period); we wait
// until it has exited, so a released lock is really released when release() resolves.
//
// LockKeeper wraps ClusterMutex for the daemon: it keeps trying to take the lock with bounded,
// jittered exponential backoff, reports held / lost / contention / error, and survives helpers
// that exit at once or print garbage.

import {spawn, type ChildProcess} from 'node:child_process'
import {EventEmitter} from 'node:events'
import {performance} from 'node:perf_hooks'
import type {ClusterLock} from '../../config/model.js'

export type LockStatus = '0' | '1' | '2' | '3'

export const STATUS_TEXT: Record<LockStatus, string> = {'0': 'held', '1': 'contention', '2': 'timeout', '3': 'error'}

/** Receives each line the helper writes to stderr, and our own remarks about the helper. */
export type HelperLogger = (line: string, info: {pid?: number; helper: string; source: 'stderr' | 'mutex'}) => void

export interface ClusterMutexOptions {
  /** Program and arguments, argv[0] an absolute path or a name looked up in PATH. */
  argv: string[]
  /** Time to wait for the status byte; 0 or undefined = no limit (CTDB: 120 s to take, 5 s for the coherence check). */
  timeoutMs?: number
  /** How long release() waits after SIGTERM before SIGKILL (default 5 s). */
  killGraceMs?: number
  log?: HelperLogger
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface LockResult {
  status: LockStatus
  /** Milliseconds from spawn to the status. */
  latencyMs: number
  /** Why, in words: "held", "contention", "timeout after 5000ms", "helper exited without a status"… */
  reason: string
}

export interface LostInfo {
  reason: string
  /** How long the lock was held, in milliseconds. */
  heldMs: number
  exitCode: number | null
  signal: NodeJS.Signals | null
}

interface MutexEvents {
  lost: [LostInfo]
  exit: [{code: number | null; signal: NodeJS.Signals | null}]
}

const MAX_STDERR_LINE = 4096
/** After the helper exited without a status byte, how long we let its stdout deliver one. */
const EXIT_DRAIN_MS = 500

/** One attempt at the lock: one helper process. Call lock() once; release() at any time. */
export class ClusterMutex extends EventEmitter<MutexEvents> {
  readonly argv: string[]
  private readonly options: ClusterMutexOptions
  private child?: ChildProcess
  private started = false
  private result?: LockResult
  private resolveResult?: (r: LockResult) => void
  private spawnedAt = 0
  private heldAt = 0
  private timer?: NodeJS.Timeout
  private releasing = false
  private lostEmitted = false
  private exitedFlag = false
  private exitCode: number | null = null
  private exitSignal: NodeJS.Signals | null = null
  private readonly exitWaiters: (() => void)[] = []
  private releasePromise?: Promise<void>
  private stderrBuffer = ''

  constructor(options: ClusterMutexOptions) {
    super()
    this.options = options
    this.argv = options.argv
  }

  /** The helper's pid while it runs (undefined before lock() or when it could not be spawned). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  /** True from status '0' until the lock is lost or released. */
  get held(): boolean {
    return this.result?.status === '0' && !this.lostEmitted && !this.releasing
  }

  get exited(): boolean {
    return this.exitedFlag
  }

  /** Spawns the helper and resolves with the first status. A non-'0' status kills the helper. */
  lock(): Promise<LockResult> {
    if (this.started) return Promise.reject(new Error('ClusterMutex.lock() may only be called once'))
    this.started = true
    this.spawnedAt = performance.now()
    return new Promise<LockResult>((resolve) => {
      this.resolveResult = resolve
      const [program, ...args] = this.argv
      if (!program) {
        this.markExited(null, null)
        this.report('3', 'empty helper command')
        return
      }
      let child: ChildProcess
      try {
        child = spawn(program, args, {stdio: ['ignore', 'pipe', 'pipe'], env: this.options.env, cwd: this.options.cwd, shell: false})
      } catch (error) {
        this.markExited(null, null)
        this.note(`cannot run cluster mutex helper ${program}: ${(error as Error).message}`)
        this.report('3', `cannot run helper: ${(error as Error).message}`)
        return
      }
      this.child = child
      child.on('error', (error: NodeJS.ErrnoException) => {
        // Spawn failures (ENOENT, EACCES) and failed kills both land here.
        if (child.pid === undefined || error.syscall?.startsWith('spawn')) {
          this.note(`cannot run cluster mutex helper ${program}: ${error.message}`)
          this.markExited(null, null)
          this.report('3', `cannot run helper: ${error.message}`)
        }
      })
      child.on('exit', (code, signal) => {
        this.markExited(code, signal)
        if (this.result) {
          if (this.result.status === '0') this.markLost(signal ? `helper killed by ${signal}` : `helper exited with status ${code}`)
        } else {
          // The status byte may still be in the pipe: give stdout a moment to deliver it.
          setTimeout(() => this.report('3', `helper exited (${signal ?? `status ${code}`}) without a status`), EXIT_DRAIN_MS).unref()
        }
      })
      child.stdout!.on('data', (chunk: Buffer) => {
        if (this.result || chunk.length === 0) return
        const byte = chunk[0]
        const char = String.fromCharCode(byte)
        if (char === '0' || char === '1' || char === '2' || char === '3') {
          this.report(char, STATUS_TEXT[char])
        } else {
          this.note(`cluster mutex helper ${program} wrote ${describeByte(byte)} instead of a status (0-3)`)
          this.report('3', `unexpected output ${describeByte(byte)}`)
        }
      })
      child.stdout!.on('end', () => {
        if (!this.result) this.report('3', 'helper closed its output without a status')
        else if (this.result.status === '0') this.markLost('helper closed its output')
      })
      child.stdout!.on('error', () => undefined)
      child.stderr!.setEncoding('utf8')
      child.stderr!.on('data', (text: string) => this.onStderr(text))
      child.stderr!.on('end', () => this.flushStderr())
      child.stderr!.on('error', () => undefined)
      const timeoutMs = this.options.timeoutMs ?? 0
      if (timeoutMs > 0) {
        this.timer = setTimeout(() => {
          this.note(`cluster mutex helper ${program} gave no status within ${timeoutMs}ms`)
          this.report('2', `timeout after ${timeoutMs}ms`)
        }, timeoutMs)
      }
    })
  }

  /**
   * Releases the lock (or cancels a pending attempt, which then reports '3' "cancelled"):
   * SIGTERM, SIGKILL after the grace period, and resolves once the helper has exited.
   */
  release(): Promise<void> {
    this.releasing = true
    if (this.started && !this.result) this.report('3', 'cancelled')
    if (!this.releasePromise) this.releasePromise = this.kill()
    return this.releasePromise
  }

  private async kill(): Promise<void> {
    const child = this.child
    if (!child || this.exitedFlag) return
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve))
    signal(child, 'SIGTERM')
    const grace = setTimeout(() => {
      this.note(`cluster mutex helper ${this.argv[0]} (pid ${child.pid}) ignored SIGTERM, sending SIGKILL`)
      signal(child, 'SIGKILL')
    }, this.options.killGraceMs ?? 5000)
    try {
      await exited
    } finally {
      clearTimeout(grace)
    }
  }

  private report(status: LockStatus, reason: string): void {
    if (this.result) return
    if (this.timer) clearTimeout(this.timer)
    const result: LockResult = {status, reason, latencyMs: Math.round(performance.now() - this.spawnedAt)}
    this.result = result
    if (status === '0') {
      this.heldAt = performance.now()
      // The helper may have died between writing '0' and our reading it.
      if (this.exitedFlag) queueMicrotask(() => this.markLost(`helper exited (${this.exitSignal ?? `status ${this.exitCode}`})`))
    } else {
      // CTDB frees the handle on anything but '0', which kills the helper.
      void this.release()
    }
    this.resolveResult?.(result)
  }

  private markLost(reason: string): void {
    if (this.lostEmitted || this.releasing) return
    this.lostEmitted = true
    const info: LostInfo = {reason, heldMs: Math.round(performance.now() - this.heldAt), exitCode: this.exitCode, signal: this.exitSignal}
    this.safeEmit('lost', info)
    // A helper that closed its stdout but still runs must not keep anything locked.
    if (!this.releasePromise) this.releasePromise = this.kill()
  }

  private markExited(code: number | null, sig: NodeJS.Signals | null): void {
    if (this.exitedFlag) return
    this.exitedFlag = true
    this.exitCode = code
    this.exitSignal = sig
    for (const w of this.exitWaiters.splice(0)) w()
    this.safeEmit('exit', {code, signal: sig})
  }

  /** A listener that throws must not break the protocol handling. */
  private safeEmit<K extends keyof MutexEvents>(event: K, ...args: MutexEvents[K]): void {
    try {
      ;(this.emit as (e: K, ...a: MutexEvents[K]) => boolean)(event, ...args)
    } catch (error) {
      this.note(`cluster mutex ${String(event)} listener failed: ${(error as Error).message}`)
    }
  }

  private onStderr(text: string): void {
    this.stderrBuffer += text
    let nl: number
    while ((nl = this.stderrBuffer.indexOf('\n')) >= 0) {
      this.logLine(this.stderrBuffer.slice(0, nl))
      this.stderrBuffer = this.stderrBuffer.slice(nl + 1)
    }
    if (this.stderrBuffer.length > MAX_STDERR_LINE) {
      this.logLine(this.stderrBuffer)
      this.stderrBuffer = ''
    }
  }

  private flushStderr(): void {
    if (this.stderrBuffer) this.logLine(this.stderrBuffer)
    this.stderrBuffer = ''
  }

  private logLine(line: string): void {
    const text = line.replace(/\r$/, '').slice(0, MAX_STDERR_LINE)
    if (text.trim() === '') return
    this.callLog(text, 'stderr')
  }

  private note(text: string): void {
    this.callLog(text, 'mutex')
  }

  private callLog(line: string, source: 'stderr' | 'mutex'): void {
    try {
      this.options.log?.(line, {pid: this.child?.pid, helper: this.argv[0] ?? '', source})
    } catch {
      /* a failing logger must not break the lock */
    }
  }
}

function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    child.kill(sig)
  } catch {
    /* already gone */
  }
}

function describeByte(byte: number): string {
  const hex = `0x${byte.toString(16).padStart(2, '0')}`
  return byte >= 0x20 && byte < 0x7f ? `${hex} ('${String.fromCharCode(byte)}')` : hex
}

// ---------------------------------------------------------------------------------------------
// Mapping the config to a helper command line

export interface HelperContext {
  /** Path of bin/run.js (the ctdbctl entry point) run with process.execPath. */
  cliPath: string
  natsServers: string[]
  cluster: string
  pnn: number
  creds?: string
  tls?: {ca?: string; cert?: string; key?: string}
  /** The node runtime (default process.execPath). */
  nodePath?: string
}

/** The helper argv for a cluster lock; undefined for `none` (no lock, no helper). */
export function helperArgv(lock: ClusterLock, ctx: HelperContext): string[] | undefined {
  const cli = [ctx.nodePath ?? process.execPath, ctx.cliPath]
  switch (lock.type) {
    case 'fcntl': {
      // CTDB's RECHECK is whole seconds; 0 disables the recheck.
      const seconds = lock.recheckIntervalMs <= 0 ? 0 : Math.max(1, Math.round(lock.recheckIntervalMs / 1000))
      return [...cli, 'mutex', 'fcntl', lock.path, String(seconds)]
    }
    case 'nats-kv': {
      const argv = [...cli, 'mutex', 'nats-kv', '--servers', ctx.natsServers.join(','), '--cluster', ctx.cluster, '--holder', `pnn:${ctx.pnn}`, '--ttl', `${lock.ttlMs}ms`]
      if (ctx.creds) argv.push('--creds', ctx.creds)
      if (ctx.tls?.ca) argv.push('--tls-ca', ctx.tls.ca)
      if (ctx.tls?.cert) argv.push('--tls-cert', ctx.tls.cert)
      if (ctx.tls?.key) argv.push('--tls-key', ctx.tls.key)
      return argv
    }
    case 'helper':
      return [...lock.command]
    case 'none':
      return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// LockKeeper: keep trying until held, with backoff

export interface BackoffOptions {
  /** First retry delay (default 250 ms). */
  initialMs?: number
  /** Upper bound of the delay (default 2 s). */
  maxMs?: number
  /** Growth per failed attempt (default 2). */
  factor?: number
  /** Random spread, as a fraction of the delay (default 0.25: ±25 %). */
  jitter?: number
}

export interface LockKeeperOptions {
  /** Helper argv (see helperArgv). */
  argv: string[]
  /** Per-attempt status timeout (default 120 s, CTDB's recovery daemon value; 0 = none). */
  timeoutMs?: number
  killGraceMs?: number
  backoff?: BackoffOptions
  /** Retry after a lost lock (default true); false stops the keeper instead. */
  retryAfterLost?: boolean
  /** Helper stderr and the keeper's own remarks. */
  log?: HelperLogger
  env?: NodeJS.ProcessEnv
  /** Test seam: how a mutex is made. */
  createMutex?: (options: ClusterMutexOptions) => ClusterMutex
  random?: () => number
}

export interface AttemptInfo {
  attempt: number
  status: LockStatus
  reason: string
  latencyMs: number
  /** Delay before the next attempt. */
  retryInMs: number
}

interface KeeperEvents {
  attempt: [{attempt: number}]
  held: [{attempt: number; latencyMs: number; pid?: number}]
  lost: [LostInfo]
  contention: [AttemptInfo]
  /** Only emitted when someone listens (an unheard 'error' would throw in EventEmitter). */
  error: [AttemptInfo]
  stopped: []
}

/**
 * Keeps trying to hold the cluster lock until stop(). Contention, timeout and errors are
 * retried after a bounded, jittered exponential backoff (reset once the lock was held). After a
 * loss it tries again (unless retryAfterLost is false). Never throws and never rejects.
 */
export class LockKeeper extends EventEmitter<KeeperEvents> {
  private readonly options: LockKeeperOptions
  private mutex?: ClusterMutex
  private running = false
  private attempts = 0
  private failures = 0
  /** Identifies the current run loop: a loop started before a stop() must not go on after a later start(). */
  private runs = 0
  private retryTimer?: NodeJS.Timeout
  /** Ends the current backoff wait. */
  private wakeUp?: () => void
  /** Ends the wait while the lock is held (stop() only). */
  private stopHolding?: () => void
  private loop?: Promise<void>

  constructor(options: LockKeeperOptions) {
    super()
    this.options = options
  }

  get held(): boolean {
    return this.mutex?.held ?? false
  }

  get helperPid(): number | undefined {
    return this.mutex?.pid
  }

  get active(): boolean {
    return this.running
  }

  /** Starts trying (no-op when already running). */
  start(): void {
    if (this.running) return
    this.running = true
    this.failures = 0
    const id = ++this.runs
    // A stop() may still be releasing the previous attempt: this run begins once that loop ended.
    const previous = this.loop
    this.loop = (async () => {
      await previous
      await this.run(id)
    })().catch((error: unknown) => this.note(`cluster lock keeper stopped by an internal error: ${(error as Error).message}`))
  }

  private live(id: number): boolean {
    return this.running && id === this.runs
  }

  /** Skips the current backoff wait (e.g. when an election starts). */
  kick(): void {
    this.wakeUp?.()
  }

  /** Stops retrying and releases the lock (or cancels the attempt in progress). */
  async stop(): Promise<void> {
    const loop = this.loop
    if (!this.running) {
      await loop
      return
    }
    this.running = false
    this.wakeUp?.()
    this.stopHolding?.()
    const mutex = this.mutex
    if (mutex) await mutex.release()
    await loop
    this.safeEmit('stopped')
  }

  /** The delay before the next attempt after `failures` failed attempts in a row. */
  backoffDelay(failures: number): number {
    const b = this.options.backoff ?? {}
    const initial = b.initialMs ?? 250
    const max = b.maxMs ?? 2000
    const factor = b.factor ?? 2
    const jitter = b.jitter ?? 0.25
    const base = Math.min(max, initial * Math.pow(factor, Math.max(0, failures - 1)))
    const spread = base * jitter * (2 * (this.options.random ?? Math.random)() - 1)
    return Math.max(0, Math.round(Math.min(max, base + spread)))
  }

  private async run(id: number): Promise<void> {
    while (this.live(id)) {
      this.attempts++
      const attempt = this.attempts
      const mutexOptions: ClusterMutexOptions = {
        argv: this.options.argv,
        timeoutMs: this.options.timeoutMs ?? 120_000,
        killGraceMs: this.options.killGraceMs,
        log: this.options.log,
        env: this.options.env,
      }
      const mutex = this.options.createMutex ? this.options.createMutex(mutexOptions) : new ClusterMutex(mutexOptions)
      this.mutex = mutex
      const lost = new Promise<LostInfo>((resolve) => mutex.once('lost', resolve))
      this.safeEmit('attempt', {attempt})
      let result: LockResult
      try {
        result = await mutex.lock()
      } catch (error) {
        result = {status: '3', reason: (error as Error).message, latencyMs: 0}
      }
      if (!this.live(id)) {
        await mutex.release()
        return
      }
      if (result.status === '0') {
        this.failures = 0
        this.safeEmit('held', {attempt, latencyMs: result.latencyMs, pid: mutex.pid})
        const stopped = new Promise<undefined>((resolve) => (this.stopHolding = () => resolve(undefined)))
        const info = await Promise.race([lost, stopped])
        this.stopHolding = undefined
        if (!info || !this.live(id)) return
        this.note(`cluster lock lost: ${info.reason}`)
        this.safeEmit('lost', info)
        await mutex.release()
        if (this.options.retryAfterLost === false) {
          this.running = false
          this.safeEmit('stopped')
          return
        }
        this.failures = 1
        await this.sleep(this.backoffDelay(this.failures))
        continue
      }
      this.failures++
      const retryInMs = this.backoffDelay(this.failures)
      const info: AttemptInfo = {attempt, status: result.status, reason: result.reason, latencyMs: result.latencyMs, retryInMs}
      if (result.status === '1') this.safeEmit('contention', info)
      else {
        this.note(`cluster lock attempt ${attempt} failed (${STATUS_TEXT[result.status]}: ${result.reason}), retrying in ${retryInMs}ms`)
        if (this.listenerCount('error') > 0) this.safeEmit('error', info)
      }
      await mutex.release()
      await this.sleep(retryInMs)
    }
  }

  /** Listener exceptions are logged, never allowed to stop the keeper. */
  private safeEmit<K extends keyof KeeperEvents>(event: K, ...args: KeeperEvents[K]): void {
    try {
      ;(this.emit as (e: K, ...a: KeeperEvents[K]) => boolean)(event, ...args)
    } catch (error) {
      this.note(`cluster lock keeper ${String(event)} listener failed: ${(error as Error).message}`)
    }
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = () => {
        if (this.retryTimer) clearTimeout(this.retryTimer)
        this.retryTimer = undefined
        this.wakeUp = undefined
        resolve()
      }
      this.retryTimer = setTimeout(done, ms)
      this.wakeUp = done
    })
  }

  private note(text: string): void {
    try {
      this.options.log?.(text, {pid: this.mutex?.pid, helper: this.options.argv[0] ?? '', source: 'mutex'})
    } catch {
      /* ignore */
    }
  }
}

/**
 * The keeper for a configured cluster lock, or undefined for `none`. It has the shape of the
 * daemon's LeaderLock (start / stop / held); listen to 'held' and 'lost' for changes.
 */
export function lockKeeperFor(lock: ClusterLock, ctx: HelperContext, options: Omit<LockKeeperOptions, 'argv'> = {}): LockKeeper | undefined {
  const argv = helperArgv(lock, ctx)
  return argv ? new LockKeeper({...options, argv}) : undefined
}
