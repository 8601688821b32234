// Kernel parameters under /proc/sys, written like CTDB's `set_proc` / `set_proc_maybe`.
// In this process's namespace the file is written directly; inside a namespace through
// `ip netns exec NS sysctl -w key=value` (argv, no shell). Keys use the /proc/sys path form
// (`net/ipv4/conf/eth1.100/promote_secondaries`), which keeps interface names with dots intact.
import {readFile, writeFile} from 'node:fs/promises'
import {CommandError, mustRun, type CommandTarget} from '../natgw/command.js'

/** Characters allowed in a key: a relative path below /proc/sys, no `..`. */
const KEY = /^[A-Za-z0-9_.:@-]+(\/[A-Za-z0-9_.:@-]+)*$/

export function checkSysctlKey(key: string): void {
  if (!KEY.test(key) || key.split('/').some((p) => p === '.' || p === '..')) throw new Error(`invalid sysctl key ${JSON.stringify(key)}`)
}

/** The argv `sysctl -w <key>=<value>` used inside a namespace. */
export function sysctlWriteArgv(key: string, value: string): string[] {
  return ['sysctl', '-q', '-w', `${key}=${value}`]
}

export class SysctlDriver {
  constructor(private readonly target: CommandTarget = {}) {}

  /** Writes a value (CTDB's set_proc); throws when the key is missing or not writable. */
  async set(key: string, value: string): Promise<void> {
    checkSysctlKey(key)
    if (this.target.netns === undefined && this.target.runner === undefined) {
      await writeFile(`/proc/sys/${key}`, `${value}\n`)
      return
    }
    await mustRun(this.target, sysctlWriteArgv(key, value))
  }

  /** CTDB's set_proc_maybe: writes the value only when the key exists and is writable; never throws. */
  async setIfWritable(key: string, value: string): Promise<boolean> {
    try {
      await this.set(key, value)
      return true
    } catch (e) {
      if (e instanceof CommandError || (e as NodeJS.ErrnoException).code !== undefined) return false
      throw e
    }
  }

  /** Reads a value (trimmed). */
  async get(key: string): Promise<string> {
    checkSysctlKey(key)
    if (this.target.netns === undefined && this.target.runner === undefined) return (await readFile(`/proc/sys/${key}`, 'utf8')).trim()
    return (await mustRun(this.target, ['sysctl', '-n', key])).stdout.trim()
  }
}
