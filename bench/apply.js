#!/usr/bin/env node
// `ctdbctl apply` end to end on a 3-node `dev up` sandbox: 10 rounds, each applying a config with
// one more public address than the one before, timed as a whole process from spawn until it exits
// 0 (apply waits itself until every node runs and matches the new revision).
// Prints one JSON line: {"bench":"apply","nodes":3,"rounds":10,"medianMs":…,"minMs":…,"maxMs":…,"runs":[…]}
// Needs a build first (npm run build). Target: median under 1 s.
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'
import {sandboxDown, sandboxUp} from '../dist/dev/sandbox.js'
import {waitForCluster} from '../dist/dev/wait.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RUN = path.join(ROOT, 'bin/run.js')
const NODES = 3
const ROUNDS = 10

/** The sandbox config with `count` public addresses (192.0.2.10, .11, …). */
function withAddresses(seed, count) {
  const lines = Array.from({length: count}, (_, i) => `    - {address: 192.0.2.${10 + i}/24, interfaces: [eth1]}`)
  return seed.replace('  nodes:\n', `  publicAddresses:\n${lines.join('\n')}\n  nodes:\n`)
}

/** Runs the CLI; resolves with its exit status and output. */
function cli(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code: code ?? 128, signal, out}))
  })
}

const tmp = mkdtempSync(path.join(tmpdir(), 'ctdbctl-bench-apply-'))
const dir = path.join(tmp, 'sandbox')
let down
const cleanup = () => (down ??= sandboxDown(dir).catch(() => undefined).finally(() => rmSync(tmp, {recursive: true, force: true})))
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanup().finally(() => process.exit(130))
  })
}

let failed = false
try {
  const sandbox = await sandboxUp({nodes: NODES, dir, name: 'bench-apply'})
  await waitForCluster(sandbox, 60_000)
  const seed = readFileSync(sandbox.configFile, 'utf8')
  const env = {CTDBCTL_CONFIG: sandbox.configFile}
  const file = path.join(tmp, 'cluster.yaml')
  const runs = []
  for (let round = 1; round <= ROUNDS; round++) {
    writeFileSync(file, withAddresses(seed, round))
    const start = performance.now()
    const r = await cli(['apply', file, '--yes', '-m', `bench round ${round}`], env)
    const ms = performance.now() - start
    if (r.code !== 0) throw new Error(`round ${round}: ctdbctl apply exited ${r.code}${r.signal ? ` (${r.signal})` : ''}:\n${r.out}`)
    if (!/Apply complete: revision \d+, 3\/3 nodes converged/.test(r.out)) throw new Error(`round ${round}: unexpected output:\n${r.out}`)
    runs.push(Math.round(ms))
  }
  const sorted = [...runs].sort((a, b) => a - b)
  console.log(JSON.stringify({bench: 'apply', nodes: NODES, rounds: ROUNDS, medianMs: Math.round((sorted[(ROUNDS - 1) >> 1] + sorted[ROUNDS >> 1]) / 2), minMs: sorted[0], maxMs: sorted.at(-1), runs}))
} catch (e) {
  failed = true
  console.error(`bench apply: ${e instanceof Error ? e.message : e}`)
} finally {
  await cleanup()
}
process.exit(failed ? 1 : 0)
