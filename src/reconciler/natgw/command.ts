// Running host commands for the NAT gateway / LVS reconcilers: argv arrays only (never a shell),
// optionally inside a network namespace (`ip netns exec NS …`) so tests can drive a namespace.
// Shared by the iptables/ipvsadm/sysctl drivers and the small ip helper (ip-helper.ts).
import {execFile} from 'node:child_process'
import {helperEnvironment} from '../../security/helper-env.js'

export interface CommandResult {
  /** 0 on success; the exit status otherwise (-1 when the command could not be started). */
  code: number
  stdout: string
  stderr: string
}

/** Runs one command given as argv (argv[0] is the program). Never throws for a non-zero exit. */
export type CommandRunner = (argv: readonly string[]) => Promise<CommandResult>

export interface CommandTarget {
  /** Network namespace to run in; undefined = this process's own namespace. */
  netns?: string
  /** Replaces the real process runner (tests record the argv here). */
  runner?: CommandRunner
}

/** A command failed: its argv and what it printed. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    super(`${argv.join(' ')} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim() || 'no output'}`)
  }
}

/** The argv actually executed: prefixed with `ip netns exec NS` when a namespace is given. */
export function inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : [...argv]
}

/** The real runner: execFile without a shell, 30 s timeout, output as text. */
export const execRunner: CommandRunner = (argv) =>
  new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), {timeout: 30_000, maxBuffer: 16 * 1024 * 1024, env: helperEnvironment()}, (err, stdout, stderr) => {
      if (!err) return resolve({code: 0, stdout, stderr})
      const e = err as NodeJS.ErrnoException & {code?: number | string}
      if (e.code === 'ENOENT') return resolve({code: -1, stdout, stderr: `${argv[0]}: command not found`})
      resolve({code: typeof e.code === 'number' ? e.code : -1, stdout, stderr: stderr || e.message})
    })
  })

/** Runs argv in the target (namespace, runner); returns the result without throwing. */
export function runIn(target: CommandTarget, argv: readonly string[]): Promise<CommandResult> {
  return (target.runner ?? execRunner)(inNetns(target.netns, argv))
}

/** Runs argv in the target and throws CommandError unless it exits 0. */
export async function mustRun(target: CommandTarget, argv: readonly string[]): Promise<CommandResult> {
  const result = await runIn(target, argv)
  if (result.code !== 0) throw new CommandError(argv, result)
  return result
}
