import {Args, Command, Flags} from '@oclif/core'
import {readFile} from 'node:fs/promises'
import {ALGORITHMS, type Problem} from '../cluster/ipalloc/problem.js'

export default class Ipalloc extends Command {
  static override description =
    "Compute which node should host each public address of an allocation problem, exactly as CTDB's LCP2, deterministic or non-deterministic algorithm would. Prints ADDRESS PNN lines in CTDB's order (-1 = unassigned)."

  static override examples = [
    '<%= config.bin %> ipalloc problem.json',
    '<%= config.bin %> ipalloc problem.json --algorithm deterministic --json',
    'cat problem.json | <%= config.bin %> ipalloc -',
  ]

  static override args = {
    problem: Args.string({
      description: 'allocation problem (JSON, the format of shared/vectors/ipalloc/README.md); - reads standard input',
      required: true,
    }),
  }

  static override flags = {
    algorithm: Flags.option({options: ALGORITHMS, description: "use this algorithm instead of the problem's"})(),
    json: Flags.boolean({description: 'print [[address, pnn], …] instead of ADDRESS PNN lines'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Ipalloc)
    const stdin = args.problem === '-'
    const name = stdin ? 'standard input' : args.problem

    let text: string
    try {
      text = stdin ? await readStdin() : await readFile(args.problem, 'utf8')
    } catch (error) {
      this.error(`${name}: ${readErrorMessage(error)}.`, {exit: 2})
    }

    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      this.error(`${name}: not valid JSON (${(error as Error).message}).`, {exit: 1})
    }

    const {allocate, parseProblem} = await import('../cluster/ipalloc/index.js')
    let problem: Problem
    try {
      problem = parseProblem(json)
    } catch (error) {
      this.error(`${name}: invalid allocation problem: ${(error as Error).message}.`, {exit: 1})
    }

    const result = allocate(problem, {algorithm: flags.algorithm})
    process.stdout.write(flags.json ? JSON.stringify(result) + '\n' : result.map(([address, pnn]) => `${address} ${pnn}\n`).join(''))
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function readErrorMessage(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  if (e.code === 'ENOENT') return 'no such file'
  if (e.code === 'EISDIR') return 'is a directory, not a problem file'
  if (e.code === 'EACCES') return 'permission denied'
  return `cannot read the problem file (${e.message})`
}
