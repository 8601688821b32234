import {existsSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {Command, Flags} from '@oclif/core'
import {formatProblem, loadConfigText} from '../config/index.js'
import {clusterNameFrom, CtdbImportError, formatLocated, importCtdb, type ImportWarning} from '../import/index.js'
import {readCtdbDir, ReadError} from '../import/read-dir.js'
import {DEFAULT_CTDB_BASE, DEFAULT_EVENT_SCRIPTS_DIR} from '../import/types.js'
import {FORMATS} from '../config/formats.js'

export default class Import extends Command {
  static override summary = 'Translate a CTDB configuration directory into a ctdbctl cluster file.'

  static override description = `Reads the directory as CTDB would (nodes, public_addresses, ctdb.conf, script.options and events/legacy/*.options, natgw_nodes, lvs_nodes, ctdb.tunables, the enabled event scripts) and prints an equivalent, commented cluster file. Everything that cannot be translated exactly is printed to standard error as FILE:LINE: warning: MESSAGE. The result is validated before it is written.

Exit status: 0 written; 1 the configuration cannot be imported (FILE:LINE: error: lines), or --out exists; 2 usage error (missing directory, bad flag).`

  static override examples = [
    '<%= config.bin %> import --ctdb-dir /etc/ctdb --name fs-prod --out cluster.yaml',
    '<%= config.bin %> import --ctdb-dir ./ctdb-node0 --public-addresses 0=public_addresses.0 --public-addresses 1=public_addresses.1',
  ]

  static override flags = {
    'ctdb-dir': Flags.string({summary: 'CTDB configuration directory (a copy of /etc/ctdb).', required: true, helpValue: 'DIR'}),
    out: Flags.string({char: 'o', summary: 'Write the cluster file here instead of standard output.', helpValue: 'FILE'}),
    force: Flags.boolean({summary: 'Overwrite --out if it exists.', default: false}),
    'public-addresses': Flags.string({
      summary: 'Per-node public address file (repeatable): the node may host only the addresses its file lists. Relative FILEs are inside --ctdb-dir.',
      multiple: true,
      helpValue: 'PNN=FILE',
    }),
    name: Flags.string({summary: 'Cluster name (metadata.name). Default: the directory name, lower-cased.', helpValue: 'NAME'}),
    'name-prefix': Flags.string({summary: 'Node names are this prefix followed by the pnn.', default: 'node', helpValue: 'PREFIX'}),
    'ctdb-base': Flags.string({summary: 'CTDB_BASE on the nodes, to resolve paths in options files.', default: DEFAULT_CTDB_BASE, helpValue: 'PATH'}),
    'event-scripts-dir': Flags.string({summary: 'spec.eventScripts for site-specific event scripts.', default: DEFAULT_EVENT_SCRIPTS_DIR, helpValue: 'PATH'}),
    json: Flags.boolean({summary: 'Print {yaml, warnings} as JSON instead of the YAML and stderr warnings.', default: false}),
  }

  /** One unwrapped sentence on stderr, then exit (oclif's error() wraps long lines). */
  private fail(message: string, options: {exit: number}): never {
    process.stderr.write(`Error: ${message}\n`)
    return this.exit(options.exit)
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Import)
    const dir = flags['ctdb-dir']
    const st = existsSync(dir) ? statSync(dir) : undefined
    if (!st) this.fail(`The CTDB directory ${dir} does not exist: give --ctdb-dir the directory holding nodes, ctdb.conf and public_addresses (usually /etc/ctdb).`, {exit: 2})
    if (!st.isDirectory()) this.fail(`${dir} is not a directory: give --ctdb-dir the directory holding nodes, ctdb.conf and public_addresses (usually /etc/ctdb).`, {exit: 2})

    const perNode: Record<number, string> = {}
    for (const spec of flags['public-addresses'] ?? []) {
      const m = /^(\d{1,5})=(.+)$/.exec(spec)
      if (!m) this.fail(`--public-addresses ${spec} is not PNN=FILE (e.g. 0=public_addresses.node0).`, {exit: 2})
      if (Number(m[1]) in perNode) this.fail(`--public-addresses names node ${m[1]} twice.`, {exit: 2})
      perNode[Number(m[1])] = m[2]
    }
    const name = flags.name ?? clusterNameFrom(path.basename(path.resolve(dir)))
    if (!FORMATS['cluster-name'].validate(name)) this.fail(`--name ${name} is not ${FORMATS['cluster-name'].expected}.`, {exit: 2})
    if (!FORMATS['node-name'].validate(`${flags['name-prefix']}0`)) this.fail(`--name-prefix ${flags['name-prefix']} does not make valid node names: ${FORMATS['node-name'].expected}.`, {exit: 2})
    if (flags.out !== undefined && existsSync(flags.out) && !flags.force) {
      this.fail(`${flags.out} already exists: choose another --out, or add --force to overwrite it.`, {exit: 1})
    }

    let input
    try {
      input = await readCtdbDir(dir, Object.values(perNode))
    } catch (error) {
      if (error instanceof ReadError) this.fail(error.message, {exit: 2})
      this.fail(`Cannot read the CTDB directory ${dir}: ${(error as Error).message}`, {exit: 2})
    }

    let result
    try {
      result = importCtdb(input, {
        name,
        namePrefix: flags['name-prefix'],
        publicAddresses: perNode,
        ctdbBase: flags['ctdb-base'],
        eventScriptsDir: flags['event-scripts-dir'],
        source: dir,
      })
    } catch (error) {
      if (!(error instanceof CtdbImportError)) throw error
      const lines = [...error.warnings.map((w) => formatLocated(w, 'warning', dir)), ...error.problems.map((p) => formatLocated(p, 'error', dir))]
      process.stderr.write(lines.join('\n') + '\n')
      this.fail(`${dir} cannot be imported: fix the error${error.problems.length === 1 ? '' : 's'} above.`, {exit: 1})
    }

    const target = flags.out ?? '<import>'
    const check = loadConfigText(result.yaml, target, {localChecks: false})
    if (!check.config) {
      process.stderr.write(check.problems.map((p) => formatProblem(target, p)).join('\n') + '\n')
      this.fail('The imported cluster file does not validate. This is a bug in `ctdbctl import`, not in your CTDB configuration: please report it with the CTDB directory.', {exit: 1})
    }

    if (flags.json) {
      process.stdout.write(JSON.stringify({...(flags.out === undefined ? {} : {out: flags.out}), yaml: result.yaml, warnings: result.warnings.map((w) => locate(w, dir))}, null, 2) + '\n')
    } else {
      if (result.warnings.length > 0) process.stderr.write(result.warnings.map((w) => formatLocated(w, 'warning', dir)).join('\n') + '\n')
      if (flags.out === undefined) process.stdout.write(result.yaml)
    }
    if (flags.out !== undefined) {
      writeFileSync(flags.out, result.yaml, {flag: flags.force ? 'w' : 'wx'})
      if (!flags.json) {
        const n = result.warnings.length
        process.stderr.write(`Wrote ${flags.out} (${n} warning${n === 1 ? '' : 's'} above). Next: ctdbctl validate ${flags.out}, then ctdbctl plan.\n`)
      }
    }
  }
}

function locate(w: ImportWarning, dir: string): ImportWarning {
  const own = w.file.startsWith('/') || w.file.startsWith('-') || w.file.startsWith('(')
  return {...w, file: own ? w.file : path.join(dir, w.file)}
}
