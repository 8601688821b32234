import {Args, Command, Flags} from '@oclif/core'
import {loadConfigText, readSource} from '../config/index.js'
import {buildReport, renderReport, type FileReport} from '../config/report.js'

export default class Validate extends Command {
  static override description = 'Check cluster files against the config language: schema, references, address conflicts, lock and tunables.'

  static override examples = [
    '<%= config.bin %> validate cluster.yaml',
    '<%= config.bin %> validate examples/*.yaml --json',
    'cat cluster.yaml | <%= config.bin %> validate -',
  ]

  static override strict = false

  static override args = {
    file: Args.string({description: 'cluster file(s) to check; - reads standard input', required: true}),
  }

  static override flags = {
    json: Flags.boolean({description: 'print a machine-readable report (schemas/validate-report.schema.json)'}),
    'no-local-checks': Flags.boolean({description: 'do not warn about helper and script paths missing on this machine'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Validate)
    const files = argv as string[]
    const reports: FileReport[] = []
    let unreadable = false
    for (const file of files) {
      let text: string
      try {
        text = await readSource(file)
      } catch (error) {
        unreadable = true
        reports.push({file, valid: false, readError: readErrorMessage(error), problems: []})
        continue
      }
      const result = loadConfigText(text, file === '-' ? '<stdin>' : file, {localChecks: !flags['no-local-checks']})
      reports.push({file: result.file, valid: result.config !== undefined, problems: result.problems})
    }
    const report = buildReport(reports)
    process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report))
    process.exitCode = unreadable ? 2 : report.valid ? 0 : 1
  }
}

function readErrorMessage(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  if (e.code === 'ENOENT') return 'no such file'
  if (e.code === 'EISDIR') return 'is a directory, not a cluster file'
  if (e.code === 'EACCES') return 'permission denied'
  return `cannot read: ${e.message}`
}
