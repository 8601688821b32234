#!/usr/bin/env node
// Cost of authentication and metrics on a 3-node `dev up` sandbox, once with open NATS and once
// with nkey authentication (per-node permissions), both with --metrics-listen: a client connects
// and asks for `status` 50 times (connect + nkey handshake + request), then asks one daemon's
// view 200 times over one connection, then scrapes one daemon's /metrics 200 times.
// Prints one JSON line per mode: {"bench":"observability","auth":…,"connectStatusMedianMs":…,
// "statusMedianMs":…,"scrapeMedianMs":…,"scrapeP95Ms":…,"scrapeBytes":…}
// Needs a build first (npm run build).
/* global fetch */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {ClusterClient} from '../dist/client/cluster-client.js'
import {sandboxDown, sandboxNats, sandboxUp} from '../dist/dev/sandbox.js'
import {waitForCluster} from '../dist/dev/wait.js'

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 100) / 100
}

async function timed(n, fn) {
  const out = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn()
    out.push(performance.now() - t)
  }
  return out
}

async function measure(auth) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'ctdbctl-bench-obs-'))
  const dir = path.join(tmp, 'sandbox')
  try {
    const sandbox = await sandboxUp({nodes: 3, dir, name: 'bench-obs', auth, metrics: true})
    await waitForCluster(sandbox, 30_000)
    const target = {cluster: sandbox.cluster, nats: sandboxNats(sandbox)}
    const connectStatus = await timed(50, async () => {
      const c = await ClusterClient.connect(target, 3000)
      await c.status()
      await c.close()
    })
    const client = await ClusterClient.connect(target, 3000)
    const status = await timed(200, () => client.status(1))
    await client.close()
    let bytes = 0
    const scrape = await timed(200, async () => {
      const res = await fetch(sandbox.daemons[0].metricsUrl)
      bytes = (await res.text()).length
    })
    return {
      bench: 'observability',
      nodes: 3,
      auth,
      connectStatusMedianMs: quantile(connectStatus, 0.5),
      statusMedianMs: quantile(status, 0.5),
      scrapeMedianMs: quantile(scrape, 0.5),
      scrapeP95Ms: quantile(scrape, 0.95),
      scrapeBytes: bytes,
    }
  } finally {
    await sandboxDown(dir).catch(() => undefined)
    rmSync(tmp, {recursive: true, force: true})
  }
}

let failed = false
for (const auth of [false, true]) {
  try {
    console.log(JSON.stringify(await measure(auth)))
  } catch (e) {
    failed = true
    console.log(JSON.stringify({bench: 'observability', auth, error: e.message}))
  }
}
process.exit(failed ? 1 : 0)
