// The report of `ctdbctl validate` (schemas/validate-report.schema.json) and its text rendering.
import {formatProblem, type Problem} from './problems.js'

export interface FileReport {
  file: string
  valid: boolean
  readError?: string
  problems: Problem[]
}

export interface ValidateReport {
  version: 1
  valid: boolean
  files: FileReport[]
  summary: {files: number; valid: number; invalid: number; errors: number; warnings: number}
}

export function buildReport(files: FileReport[]): ValidateReport {
  const count = (sev: string) => files.reduce((n, f) => n + f.problems.filter((p) => p.severity === sev).length, 0)
  const valid = files.filter((f) => f.valid).length
  return {
    version: 1,
    valid: valid === files.length,
    files,
    summary: {files: files.length, valid, invalid: files.length - valid, errors: count('error'), warnings: count('warning')},
  }
}

export function renderReport(report: ValidateReport): string {
  const lines: string[] = []
  for (const f of report.files) {
    if (f.readError) lines.push(`${f.file}: error: ${f.readError}`)
    for (const p of f.problems) lines.push(formatProblem(f.file, p))
  }
  const s = report.summary
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  lines.push(`${plural(s.files, 'file')} checked: ${s.valid} valid, ${s.invalid} invalid (${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')})`)
  return lines.join('\n') + '\n'
}
