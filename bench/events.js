#!/usr/bin/env node
// Event runner benchmark (dist/events): fixed workloads, one JSON line each.
//   monitor-10-scripts  one monitor event over 10 enabled `exit 0` shell scripts (+1 disabled),
//                       run 30 times; median wall time per event and per script
//   nfs-monitor         a service's monitor through examples/nfs-callout (register cached:
//                       monitor-pre, monitor-list-shares, monitor-post), 30 times
//   timeout-kill        a script that hangs (`sleep 60` in a child) with a 200 ms timeout: how long
//                       after the deadline the result arrives (process group killed), 10 times
// Needs a build (npm run build).
import {chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
if (!existsSync(`${ROOT}dist/events/executor.js`)) {
  console.error('dist/ is missing: run npm run build first')
  process.exit(1)
}
const {runEvent} = await import('../dist/events/executor.js')
const {runProgram} = await import('../dist/events/runner.js')
const {ServiceUnit} = await import('../dist/events/services.js')
const {eventEnv} = await import('../dist/events/env.js')

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-bench-events-'))
const env = eventEnv({cluster: 'bench', nodeName: 'n0', pnn: 0, dataDir: dir})
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const round = (x) => Math.round(x * 100) / 100

try {
  const scripts = join(dir, 'events')
  mkdirSync(scripts)
  for (let i = 0; i < 11; i++) {
    const p = join(scripts, `${String(i * 5).padStart(2, '0')}.s${i}.script`)
    writeFileSync(p, '#!/bin/sh\nexit 0\n')
    chmodSync(p, i === 5 ? 0o644 : 0o755)
  }
  const times = []
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now()
    const r = await runEvent({event: 'monitor', args: [], scriptDir: scripts, services: [], env, timeoutMs: 30_000})
    times.push(performance.now() - t0)
    if (r.status !== 'OK') throw new Error(`monitor failed: ${JSON.stringify(r)}`)
  }
  console.log(JSON.stringify({bench: 'events', case: 'monitor-10-scripts', runs: times.length, medianMs: round(median(times)), perScriptMs: round(median(times) / 10), maxMs: round(Math.max(...times))}))

  const unit = new ServiceUnit({name: 'nfs', nfsCallout: `${ROOT}examples/nfs-callout/nfs-callout`}, {env: () => ({...env, NFS_CALLOUT_SYSTEMCTL: '/bin/true'}), stateDir: join(dir, 'nfs')})
  await unit.monitor(30_000) // registers
  const nfs = []
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now()
    const r = await unit.monitor(30_000)
    nfs.push(performance.now() - t0)
    if (r.status !== 'OK') throw new Error(`nfs monitor failed: ${JSON.stringify(r)}`)
  }
  console.log(JSON.stringify({bench: 'events', case: 'nfs-monitor', runs: nfs.length, medianMs: round(median(nfs)), maxMs: round(Math.max(...nfs))}))

  const over = []
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now()
    const r = await runProgram('/bin/sh', ['-c', 'sleep 60 & wait'], {name: 'hang', env, timeoutMs: 200})
    over.push(performance.now() - t0 - 200)
    if (r.status !== 'TIMEDOUT') throw new Error(`expected TIMEDOUT, got ${r.status}`)
  }
  console.log(JSON.stringify({bench: 'events', case: 'timeout-kill', runs: over.length, timeoutMs: 200, medianOvershootMs: round(median(over)), maxOvershootMs: round(Math.max(...over))}))
} finally {
  rmSync(dir, {recursive: true, force: true})
}
