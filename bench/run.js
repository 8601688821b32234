#!/usr/bin/env node
// Runs the benchmarks (bench/<name>.js, each printing one JSON line per result) one after another.
// `npm run bench` runs all; `npm run bench -- ipalloc plan` runs the named ones.
import {readdirSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const dir = fileURLToPath(new URL('.', import.meta.url))
const all = readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'run.js' && !f.startsWith('_')).map((f) => f.slice(0, -3)).sort()
const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !all.includes(w))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${all.join(', ')}`)
  process.exit(2)
}
let failed = 0
for (const name of wanted.length > 0 ? wanted : all) {
  const r = spawnSync(process.execPath, [`${dir}${name}.js`], {stdio: 'inherit'})
  if (r.status !== 0) failed++
}
process.exit(failed > 0 ? 1 : 0)
