// Runs one program: argv only (no shell), its own process group so a timeout kills everything it
// started, stdout and stderr captured together up to a cap, clean environment.
import {spawn} from 'node:child_process'
import {basename} from 'node:path'
import type {RunResult} from './model.js'

export const OUTPUT_CAP = 64 * 1024

export interface RunOptions {
  name: string
  env: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal
  cwd?: string
}

export function runProgram(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const startedAt = Date.now()
  const t0 = performance.now()
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let truncated = false
    let outcome: 'timedout' | 'cancelled' | undefined
    let done = false
    const finish = (r: Omit<RunResult, 'name' | 'startedAt' | 'durationMs' | 'output'>) => {
      if (done) return
      done = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      const output = Buffer.concat(chunks).toString('utf8') + (truncated ? '\n[output truncated]' : '')
      resolve({name: options.name, startedAt, durationMs: Math.round((performance.now() - t0) * 1000) / 1000, output, ...r})
    }
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(file, args, {argv0: basename(file), env: options.env, cwd: options.cwd ?? '/', detached: true, stdio: ['ignore', 'pipe', 'pipe']})
    } catch (e) {
      finish({status: 'CANNOT RUN', error: (e as Error).message})
      return
    }
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => {
      outcome = 'timedout'
      killGroup()
    }, options.timeoutMs)
    const onAbort = () => {
      outcome = 'cancelled'
      killGroup()
    }
    if (options.signal?.aborted) onAbort()
    else options.signal?.addEventListener('abort', onAbort, {once: true})
    const collect = (b: Buffer) => {
      if (size >= OUTPUT_CAP) {
        truncated = true
        return
      }
      const part = b.subarray(0, OUTPUT_CAP - size)
      if (part.length < b.length) truncated = true
      chunks.push(part)
      size += part.length
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    child.on('error', (e: NodeJS.ErrnoException) => finish({status: 'CANNOT RUN', error: e.code ? `${e.code}: ${e.message}` : e.message}))
    child.on('exit', (code, signal) => {
      // A child that left the group (setsid) could keep the pipes open: do not wait for them forever.
      const settle = () => {
        if (outcome === 'timedout') finish({status: 'TIMEDOUT'})
        else if (outcome === 'cancelled') finish({status: 'CANCELLED'})
        else if (code === 0) finish({status: 'OK', code: 0})
        else finish({status: 'ERROR', ...(code === null ? {error: `killed by ${signal}`} : {code})})
      }
      const grace = setTimeout(() => {
        child.stdout!.destroy()
        child.stderr!.destroy()
        settle()
      }, 500)
      child.on('close', () => {
        clearTimeout(grace)
        settle()
      })
    })
  })
}
