#!/usr/bin/env node
// `ctdbctl plan` as a whole process on the large example: examples/large-64-nodes.yaml (64 nodes,
// 1024 public addresses) against a variant in which 10 public addresses are replaced by new ones
// (10 removed + 10 added, consequences included: both LCP2 allocations, leaders).
// Prints one JSON line: {"bench":"plan","nodes":64,"addresses":1024,"changed":10,"medianMs":…,"runs":[…]}
// Needs a build first (npm run build). Target: under 1 s.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RUN = path.join(ROOT, 'bin/run.js')
const BASE = 'examples/large-64-nodes.yaml'
const RUNS = 5
const CHANGED = 10

const text = readFileSync(path.join(ROOT, BASE), 'utf8')
const lines = text.split('\n')
const addressLines = lines.map((l, i) => [l, i]).filter(([l]) => /^ {4}- \{address: \d+\.\d+\.\d+\.\d+\/\d+,/.test(l))
const nodeCount = lines.filter((l) => /^ {4}- \{pnn: \d+,/.test(l)).length
// Every 100th address moves to a fresh network (10.250.0.0/24), keeping its interfaces.
for (let k = 0; k < CHANGED; k++) {
  const [line, i] = addressLines[k * 100]
  lines[i] = line.replace(/address: \d+\.\d+\.\d+\.\d+\/\d+/, `address: 10.250.0.${10 + k}/24`)
}

const dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-bench-plan-'))
try {
  const variant = path.join(dir, 'large-64-nodes-variant.yaml')
  writeFileSync(variant, lines.join('\n'))
  const runs = []
  for (let r = 0; r < RUNS; r++) {
    const start = performance.now()
    const p = spawnSync(process.execPath, [RUN, 'plan', variant, '--against', BASE, '--json'], {cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
    const ms = performance.now() - start
    if (p.status !== 0) {
      console.error(`ctdbctl plan failed (exit ${p.status}):\n${p.stderr}`)
      process.exit(1)
    }
    const doc = JSON.parse(p.stdout)
    if (doc.summary.add !== CHANGED || doc.summary.remove !== CHANGED) {
      console.error(`unexpected plan: ${JSON.stringify(doc.summary)}`)
      process.exit(1)
    }
    runs.push(Math.round(ms))
  }
  const sorted = [...runs].sort((a, b) => a - b)
  console.log(JSON.stringify({bench: 'plan', nodes: nodeCount, addresses: addressLines.length, changed: CHANGED, medianMs: sorted[Math.floor(RUNS / 2)], runs}))
} finally {
  rmSync(dir, {recursive: true, force: true})
}
