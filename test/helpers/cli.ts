// Runs the built CLI (bin/run.js → dist/) as a child process, the way users and CI run it.
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = path.join(REPO_ROOT, 'bin', 'run.js')

export interface CliResult {
  /** Exit status (128 + signal number when killed by a signal). */
  code: number
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** Written to standard input, which is then closed (closed empty when absent). */
  input?: string
  /** Working directory; default the repository root. */
  cwd?: string
  /** Extra environment variables. */
  env?: Record<string, string>
  /** Milliseconds before the child is killed; default 30 s. */
  timeout?: number
}

/** Throws a clear error when the compiled file a test needs is missing (the CLI runs from dist/). */
export function requireBuilt(relative = 'dist/commands/validate.js'): void {
  if (!existsSync(path.join(REPO_ROOT, relative))) throw new Error(`${relative} is missing: run npm run build first`)
}

/** `node bin/run.js ARGS...` in the repository root; resolves with the exit status, never rejects on a non-zero exit. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: opts.cwd ?? REPO_ROOT,
        env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env},
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeout ?? 30_000,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number' && !error.signal) {
          reject(error)
          return
        }
        const code = !error ? 0 : typeof error.code === 'number' ? error.code : 128 + signalNumber(error.signal)
        resolve({code, stdout, stderr})
      },
    )
    child.stdin?.on('error', () => {}) // the CLI may exit without reading its input
    child.stdin?.end(opts.input ?? '')
  })
}

function signalNumber(signal: NodeJS.Signals | null | undefined): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = {SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15}
  return (signal && numbers[signal]) || 0
}
