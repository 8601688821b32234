// Line-oriented readers for the three syntaxes of a CTDB directory: plain line files (nodes,
// public_addresses, group files, tunables), Samba-style INI (ctdb.conf) and shell `VAR=value`
// option files (script.options, events/legacy/NAME.options, pre-4.9 ctdbd.conf). Pure.
import type {Diagnostics} from './types.js'

export interface Line {
  /** 1-based line number in the file. */
  line: number
  /** The line without its end-of-line characters. */
  text: string
}

/** Lines of a file, trailing empty lines dropped (as CTDB does for nodes and public_addresses). */
export function fileLines(text: string): Line[] {
  const raw = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
  while (raw.length > 0 && raw[raw.length - 1].trim() === '') raw.pop()
  return raw.map((t, i) => ({line: i + 1, text: t}))
}

/** Strip leading and trailing spaces and TABs (not other white space), as CTDB's parsers do. */
export function stripBlanks(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '')
}

export function splitBlanks(s: string): string[] {
  return stripBlanks(s).split(/[ \t]+/).filter((t) => t !== '')
}

// ---------------------------------------------------------------------------------------------
// ctdb.conf

export interface IniEntry {
  /** Lower case. */
  section: string
  /** Lower case, inner blanks collapsed to one space (`cluster lock`). */
  key: string
  value: string
  line: number
}

/**
 * Samba-style INI as CTDB reads ctdb.conf: `[section]` headers, `key = value` lines, comments are
 * lines starting with `#` or `;`. A key set twice keeps the last value (the earlier line gets a
 * warning).
 */
export function parseIni(text: string, file: string, diag: Diagnostics): IniEntry[] {
  const entries: IniEntry[] = []
  let section: string | undefined
  for (const {line, text: raw} of fileLines(text)) {
    const t = raw.trim()
    if (t === '' || t.startsWith('#') || t.startsWith(';')) continue
    const header = /^\[\s*([^\]]*?)\s*\]$/.exec(t)
    if (header) {
      section = header[1].toLowerCase()
      continue
    }
    const eq = t.indexOf('=')
    if (eq <= 0) {
      diag.warn(file, line, `"${t}" is neither a [section] header nor a "key = value" option (CTDB rejects such a file); ignored`)
      continue
    }
    const key = t.slice(0, eq).trim().toLowerCase().replace(/\s+/g, ' ')
    const value = t.slice(eq + 1).trim()
    if (section === undefined) {
      diag.warn(file, line, `option "${key}" comes before any [section] header (CTDB rejects it); ignored`)
      continue
    }
    const earlier = entries.findIndex((e) => e.section === section && e.key === key)
    if (earlier >= 0) {
      diag.warn(file, entries[earlier].line, `[${section}] ${key} is set again at line ${line}; the later value is used`)
      entries.splice(earlier, 1)
    }
    entries.push({section, key, value, line})
  }
  return entries
}

/** CTDB's boolean spellings in ctdb.conf. */
export function parseBool(value: string): boolean | undefined {
  const v = value.toLowerCase()
  if (['true', 'yes', 'on', '1'].includes(v)) return true
  if (['false', 'no', 'off', '0'].includes(v)) return false
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Shell options files

export interface ShellVar {
  name: string
  value: string
  file: string
  line: number
}

/**
 * `VAR=value` lines of a shell options file, as `.` would set them for the simple cases CTDB's
 * documentation uses: optional `export`, single or double quotes, `$CTDB_BASE` / `${CTDB_BASE}`
 * expanded to `ctdbBase`, trailing `# comment`. Anything else is shell code the import does not
 * run: it gets a warning.
 */
export function parseShellOptions(text: string, file: string, diag: Diagnostics, ctdbBase: string): ShellVar[] {
  const out: ShellVar[] = []
  for (const {line, text: raw} of fileLines(text)) {
    const t = raw.trim()
    if (t === '' || t.startsWith('#')) continue
    const m = /^(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(t)
    if (!m) {
      diag.warn(file, line, `"${t}" is shell code, not a VAR=value assignment: the import does not run shell code, so it is not imported`)
      continue
    }
    const parsed = shellWord(m[2], ctdbBase)
    if (parsed.rest !== '' && !parsed.rest.startsWith('#')) {
      diag.warn(file, line, `text after the value of ${m[1]} ("${parsed.rest}") is shell code the import does not run; ignored`)
    }
    if (parsed.unexpanded.length > 0) {
      diag.warn(file, line, `${m[1]} uses ${parsed.unexpanded.join(', ')}, which the import cannot expand; the value is taken literally`)
    }
    out.push({name: m[1], value: parsed.value, file, line})
  }
  return out
}

function shellWord(s: string, ctdbBase: string): {value: string; rest: string; unexpanded: string[]} {
  let value = ''
  const unexpanded: string[] = []
  let i = 0
  const expand = (text: string) =>
    text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, a?: string, b?: string) => {
      const name = a ?? b
      if (name === 'CTDB_BASE') return ctdbBase
      unexpanded.push(all)
      return all
    })
  while (i < s.length && s[i] !== ' ' && s[i] !== '\t') {
    const c = s[i]
    if (c === "'") {
      const end = s.indexOf("'", i + 1)
      const stop = end < 0 ? s.length : end
      value += s.slice(i + 1, stop)
      i = stop + 1
    } else if (c === '"') {
      let j = i + 1
      let chunk = ''
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length && '"\\$`'.includes(s[j + 1])) {
          chunk += s[j + 1]
          j += 2
        } else {
          chunk += s[j]
          j++
        }
      }
      value += expand(chunk)
      i = j + 1
    } else {
      let j = i
      while (j < s.length && !" \t'\"".includes(s[j])) j++
      value += expand(s.slice(i, j))
      i = j
    }
  }
  return {value, rest: s.slice(i).trim(), unexpanded}
}
