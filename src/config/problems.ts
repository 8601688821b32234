// A located problem in a config file, and its one-line rendering.

export type Severity = 'error' | 'warning'

export interface Problem {
  severity: Severity
  /** Stable identifier of the rule that found the problem (e.g. "schema.required", "nodes.unique-pnn"). */
  rule: string
  message: string
  /** JSON pointer of the offending value in the document ("" = the whole document). */
  pointer: string
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
}

export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message))
}

/** `FILE:LINE:COL: error: MESSAGE (at /json/pointer)` */
export function formatProblem(file: string, p: Problem): string {
  return `${file}:${p.line}:${p.column}: ${p.severity}: ${p.message} (at ${p.pointer === '' ? '/' : p.pointer})`
}

export function escapePointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1')
}

export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => '/' + escapePointerToken(t)).join('')
}
