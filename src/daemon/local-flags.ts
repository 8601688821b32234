// The flags a node is authoritative for: DISABLED (kept on disk, so it survives a restart —
// unlike CTDB), BANNED (for a duration), STOPPED and UNHEALTHY.
import {readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {OwnFlag} from '../protocol/messages.js'

interface Persisted {
  disabled: boolean
}

export class LocalFlags {
  private disabled: boolean
  private stopped = false
  private unhealthy = false
  private banTimer?: NodeJS.Timeout
  private bannedUntil?: number

  constructor(
    private readonly dataDir: string,
    private readonly onChange: () => void,
  ) {
    this.disabled = this.load().disabled
  }

  flags(): OwnFlag[] {
    const out: OwnFlag[] = []
    if (this.unhealthy) out.push('UNHEALTHY')
    if (this.disabled) out.push('DISABLED')
    if (this.bannedUntil !== undefined) out.push('BANNED')
    if (this.stopped) out.push('STOPPED')
    return out
  }

  get banned(): boolean {
    return this.bannedUntil !== undefined
  }

  get isStopped(): boolean {
    return this.stopped
  }

  get isDisabled(): boolean {
    return this.disabled
  }

  /** Replaces any running ban, as CTDB. */
  ban(seconds: number): void {
    clearTimeout(this.banTimer)
    this.bannedUntil = Date.now() + seconds * 1000
    this.banTimer = setTimeout(() => this.unban(), seconds * 1000)
    this.banTimer.unref()
    this.onChange()
  }

  unban(): void {
    clearTimeout(this.banTimer)
    this.banTimer = undefined
    if (this.bannedUntil === undefined) return
    this.bannedUntil = undefined
    this.onChange()
  }

  setDisabled(disabled: boolean): void {
    if (this.disabled === disabled) return
    this.disabled = disabled
    this.save()
    this.onChange()
  }

  setStopped(stopped: boolean): void {
    if (this.stopped === stopped) return
    this.stopped = stopped
    this.onChange()
  }

  setUnhealthy(unhealthy: boolean): void {
    if (this.unhealthy === unhealthy) return
    this.unhealthy = unhealthy
    this.onChange()
  }

  dispose(): void {
    clearTimeout(this.banTimer)
  }

  private get file(): string {
    return join(this.dataDir, 'node-state.json')
  }

  private load(): Persisted {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<Persisted>
      return {disabled: data.disabled === true}
    } catch {
      return {disabled: false}
    }
  }

  private save(): void {
    const tmp = `${this.file}.tmp`
    writeFileSync(tmp, JSON.stringify({disabled: this.disabled} satisfies Persisted) + '\n', {mode: 0o600})
    renameSync(tmp, this.file)
  }
}
