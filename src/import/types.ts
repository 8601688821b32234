// Shared types of the CTDB importer (`ctdbctl import`). The importer is a pure function of the
// text of a CTDB configuration directory: no I/O happens below src/import/read-dir.ts.

/** Something the import could not translate, or translated with a caveat. */
export interface ImportWarning {
  /** Path relative to the CTDB directory (`nodes`, `events/legacy/11.natgw.options`), or a per-node file as given. */
  file: string
  /** 1-based line; absent when the warning is about the whole file or entry. */
  line?: number
  message: string
}

/** One entry of `events/legacy/` that looks like a CTDB event script (`NN.name.script`). */
export interface ScriptEntry {
  /** Path relative to the CTDB directory, e.g. `events/legacy/50.samba.script`. */
  path: string
  /** Owner-executable, checked through symlinks (CTDB's definition of enabled). */
  executable: boolean
  /** Set for a symlink: whether its target exists. */
  symlink?: 'ok' | 'dangling'
}

export interface CtdbDirInput {
  /**
   * Text of the files of the CTDB directory by path relative to it (`nodes`, `ctdb.conf`,
   * `script.options`, `events/legacy/60.nfs.options`, `tunables.d/site.tunables`, …), plus the
   * per-node public address files named in `ImportOptions.publicAddresses`.
   */
  files: Record<string, string>
  /** Scripts found in `events/legacy/`; undefined when the directory has no `events/legacy`. */
  scripts?: ScriptEntry[]
  /** Other entries of the directory that are not configuration files (for warnings), e.g. `notify.d/50.mail`. */
  otherEntries?: string[]
}

export interface ImportOptions {
  /** Cluster name (metadata.name). Default `ctdb`. */
  name?: string
  /** Node names are this prefix followed by the pnn. Default `node`. */
  namePrefix?: string
  /**
   * Per-node public address files: pnn → key in `files`. When given, each address may be hosted
   * only by the nodes whose file lists it, and the directory's own `public_addresses` is ignored.
   */
  publicAddresses?: Record<number, string>
  /** CTDB_BASE on the cluster nodes, used to resolve paths in options files. Default `/etc/ctdb`. */
  ctdbBase?: string
  /** Directory named in spec.eventScripts for scripts without an equivalent. Default `/etc/ctdbctl/events.d`. */
  eventScriptsDir?: string
  /** Where the configuration came from, for the header comment. */
  source?: string
  /** Target of the yaml-language-server modeline. Default: the schema's $id. */
  schemaRef?: string
}

export const DEFAULT_SCHEMA_REF = 'https://ctdbctl.dev/schemas/cluster.schema.json'
export const DEFAULT_CTDB_BASE = '/etc/ctdb'
export const DEFAULT_EVENT_SCRIPTS_DIR = '/etc/ctdbctl/events.d'

/** The configuration cannot be imported (CTDB itself would refuse it, or a required file is missing). */
export class CtdbImportError extends Error {
  constructor(readonly problems: ImportWarning[], readonly warnings: ImportWarning[] = []) {
    super(problems.map((p) => formatLocated(p, 'error')).join('\n'))
    this.name = 'CtdbImportError'
  }
}

/** `FILE:LINE: warning: MESSAGE` (`FILE: warning: MESSAGE` without a line). */
export function formatLocated(w: ImportWarning, severity: 'warning' | 'error' = 'warning', dir?: string): string {
  const own = w.file.startsWith('/') || w.file.startsWith('-') || w.file.startsWith('(')
  const file = dir === undefined || own ? w.file : `${dir.replace(/\/+$/, '')}/${w.file}`
  return `${file}${w.line === undefined ? '' : `:${w.line}`}: ${severity}: ${w.message}`
}

/** Collects warnings and fatal problems while the import runs. */
export class Diagnostics {
  readonly warnings: ImportWarning[] = []
  readonly errors: ImportWarning[] = []

  warn(file: string, line: number | undefined, message: string): void {
    this.warnings.push(line === undefined ? {file, message} : {file, line, message})
  }

  error(file: string, line: number | undefined, message: string): void {
    this.errors.push(line === undefined ? {file, message} : {file, line, message})
  }
}
