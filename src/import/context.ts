// State shared by the translators of one import run. Pure.
import type {CtdbNode} from './nodes.js'
import type {OptionSet} from './options.js'
import type {Diagnostics, ScriptEntry} from './types.js'

/** Comments to attach to the emitted YAML, by path (`spec/nodes/0`). */
export class Notes {
  readonly before = new Map<string, string[]>()
  readonly after = new Map<string, string>()

  /** A comment above the key or item at `path`: the parts are joined and wrapped at 100 columns. */
  above(path: (string | number)[], ...parts: string[]): void {
    const key = path.join('/')
    this.before.set(key, [...(this.before.get(key) ?? []), ...wrap(parts.join(' '), 96 - 2 * path.length)])
  }

  /** A comment at the end of the (flow or scalar) value at `path`. */
  trailing(path: (string | number)[], text: string): void {
    this.after.set(path.join('/'), text)
  }
}

export interface ScriptState extends ScriptEntry {
  /** `50.samba` */
  name: string
  enabled: boolean
}

export interface Ctx {
  files: Record<string, string>
  diag: Diagnostics
  notes: Notes
  ctdbBase: string
  nodes: CtdbNode[]
  nodeName: (pnn: number) => string
  options: OptionSet
  /** By script name; undefined when no events/legacy listing was given. */
  scripts?: Map<string, ScriptState>
  /** Files (keys of `files`) read by a translator; the others get a warning. */
  consumed: Set<string>
}

/** Key in `files` of a path named in an options file, or undefined when it is not in the directory. */
export function resolveCtdbPath(ctx: Ctx, value: string, from: {file: string; line: number}): string | undefined {
  const base = ctx.ctdbBase.replace(/\/+$/, '') + '/'
  if (value.startsWith(base) && ctx.files[value.slice(base.length)] !== undefined) return value.slice(base.length)
  if (!value.startsWith('/') && ctx.files[value] !== undefined) return value
  const name = value.slice(value.lastIndexOf('/') + 1)
  if (ctx.files[name] !== undefined) {
    if (value.startsWith('/') && !value.startsWith(base)) {
      ctx.diag.warn(from.file, from.line, `${value} is outside CTDB_BASE (${ctx.ctdbBase}); the import read ${name} from the directory instead`)
    }
    return name
  }
  return undefined
}

/** Whether a script is enabled; undefined when the import has no events/legacy listing. */
export function scriptEnabled(ctx: Ctx, name: string): boolean | undefined {
  if (!ctx.scripts) return undefined
  return ctx.scripts.get(name)?.enabled ?? false
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let current = ''
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current)
      current = word
    } else current = current === '' ? word : `${current} ${word}`
  }
  if (current !== '') lines.push(current)
  return lines
}

/** `script.options:4-9, natgw_nodes:1,3`: source lines grouped by file, runs collapsed. */
export function formatSources(list: {file: string; line: number}[]): string {
  const byFile = new Map<string, number[]>()
  for (const {file, line} of list) byFile.set(file, [...(byFile.get(file) ?? []), line])
  return [...byFile]
    .map(([file, lines]) => {
      const sorted = [...new Set(lines)].sort((a, b) => a - b)
      const runs: string[] = []
      for (let i = 0; i < sorted.length; ) {
        let j = i
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++
        runs.push(j - i >= 2 ? `${sorted[i]}-${sorted[j]}` : sorted.slice(i, j + 1).join(','))
        i = j + 1
      }
      return `${file}:${runs.join(',')}`
    })
    .join(', ')
}
