// `npm run chaos -- --minutes N [--seed S] [--nodes 3] [--faults K,K] [--overlap P] [--log FILE]`: a standalone chaos run
// (root). Prints the summary as one JSON line and a table; exits 1 on any violation.
import {parseArgs} from 'node:util'
import {FAULTS} from './faults/index.js'
import {formatSummary} from './recorder.js'
import {runChaos} from './runner.js'

const {values} = parseArgs({
  options: {
    minutes: {type: 'string', default: '10'},
    seed: {type: 'string'},
    nodes: {type: 'string', default: '3'},
    log: {type: 'string'},
    faults: {type: 'string'},
    overlap: {type: 'string', default: '0'},
    quiet: {type: 'boolean', default: false},
  },
})

function positive(name: string, text: string, min: number): number {
  const n = Number(text)
  if (!Number.isFinite(n) || n < min) {
    console.error(`--${name} must be a number of at least ${min} (got "${text}")`)
    process.exit(2)
  }
  return n
}

const minutes = positive('minutes', values.minutes, 0)
const nodes = Math.floor(positive('nodes', values.nodes, 3))
const overlap = positive('overlap', values.overlap, 0)
if (overlap > 1) {
  console.error(`--overlap is a probability between 0 and 1 (got "${values.overlap}")`)
  process.exit(2)
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Math.floor(positive('seed', values.seed, 0))
const kinds = FAULTS.map((f) => f.kind)
const chosen = values.faults?.split(',').map((k) => k.trim())
const unknown = chosen?.filter((k) => !kinds.includes(k))
if (unknown?.length || chosen?.length === 0) {
  console.error(`--faults: unknown fault kind ${unknown?.join(', ') || '(none given)'}; choose from ${kinds.join(', ')}`)
  process.exit(2)
}
const faults = chosen ? FAULTS.filter((f) => chosen.includes(f.kind)) : undefined
const logFile = values.log ?? `chaos-${seed}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`
console.error(`chaos: seed ${seed}, ${nodes} nodes, ${minutes} min, log ${logFile} (replay: npm run chaos -- --seed ${seed} --nodes ${nodes} --minutes ${minutes}${values.faults ? ` --faults ${values.faults}` : ''}${overlap > 0 ? ` --overlap ${overlap}` : ''})`)

const stop = new AbortController()
process.on('SIGINT', () => {
  if (stop.signal.aborted) process.exit(130)
  stop.abort()
  console.error('chaos: interrupted, ending after the current fault (again to quit at once, leaving the lab behind)')
})

try {
  const summary = await runChaos({seed, nodes, ...(faults ? {faults} : {}), durationMs: minutes * 60_000, overlap, logFile, signal: stop.signal, echo: values.quiet ? undefined : (line) => console.error(line)})
  console.log(JSON.stringify(summary))
  console.log(formatSummary(summary))
  process.exit(summary.violations.length === 0 ? 0 : 1)
} catch (e) {
  console.error(`chaos: ${(e as Error).message}`)
  process.exit(2)
}
