// "Daemons never crash on their own": every daemon and nats-server process is watched; an exit
// the run did not cause is a violation, reported with its status and the last lines of its log.
import type {ChildProcess} from 'node:child_process'
import {readFileSync} from 'node:fs'
import type {Recorder} from '../recorder.js'

const TAIL_LINES = 15

export function tail(file: string, lines = TAIL_LINES): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch (e) {
    return `(no log: ${(e as Error).message})`
  }
}

export class CrashWatcher {
  private stopping = false
  private readonly watched: {label: string; child: ChildProcess}[] = []

  constructor(private readonly rec: Recorder, private readonly expectedExits: Set<number>) {}

  watch(label: string, child: ChildProcess, log?: string): void {
    const pid = child.pid!
    this.watched.push({label, child})
    child.once('exit', (code, signal) => {
      if (this.stopping || this.expectedExits.has(pid)) return
      this.rec.check('no-crash', false, `${label} (pid ${pid}) exited on its own with ${signal ?? `status ${code}`}${log ? `; last log lines:\n${tail(log)}` : ''}`)
    })
  }

  /** The run is over: each process not killed by the run is still there; exits from now on are the teardown's. */
  stop(): void {
    for (const {label, child} of this.watched) {
      if (this.expectedExits.has(child.pid!)) continue
      const running = child.exitCode === null && child.signalCode === null
      // An exit was reported when it happened; count the survivors as passed checks.
      if (running) this.rec.check('no-crash', true, `${label} running`)
    }
    this.stopping = true
  }
}
