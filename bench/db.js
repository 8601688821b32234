#!/usr/bin/env node
// Database service benchmarks (issue 10), in-process services over a real nats-server on
// loopback. One JSON line per result:
//   raw classic-level put/get per second (the reference), local fetchLock+store per second with
//   1 and 8 concurrent owners in the daemon's database service (no client socket: bench/client.js
//   measures the same through the socket of a running daemon), record migrations per second
//   between two nodes (CTDB's fetch ring: two nodes increment one record in turn), persistent
//   commits per second on 3 nodes,
//   and recovery time of 100k and 1M volatile records spread over 3 nodes.
// The recovery data is loaded straight into each node's LevelDB (loading 1M records through
// fetch-lock would dominate the run); what is timed is the recovery alone.
// Needs a build first (npm run build) and nats-server.
import {mkdtempSync, rmSync} from 'node:fs'
import {performance} from 'node:perf_hooks'
import {setImmediate as nextTurn} from 'node:timers/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {connect} from '@nats-io/transport-node'
import pino from 'pino'
import {createDatabaseService} from '../dist/db/index.js'
import {encodeValue} from '../dist/db/record.js'
import {startNatsServers, stopNatsServers} from '../dist/dev/nats-servers.js'
import {rawLevel} from './_raw-level.js'

// A reader that stops early (`| head`) must not kill the run before it stops its servers.
process.stdout.on('error', () => undefined)

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-bench-db-'))
const servers = await startNatsServers({count: 1, dir})
const log = pino({level: 'silent'})
const out = (o) => console.log(JSON.stringify({bench: 'db', ...o}))
const k = (i) => Buffer.from(`key-${i}`)
let clusterNo = 0

async function cluster(n, dbs) {
  const name = `bench${clusterNo++}`
  const svcs = []
  const conns = []
  for (let p = 0; p < n; p++) {
    const nc = await connect({servers: servers[0].url})
    const svc = createDatabaseService({nc, cluster: name, pnn: p, dataDir: join(dir, name, `n${p}`), log})
    await svc.start(dbs)
    svcs.push(svc)
    conns.push(nc)
  }
  await recover(svcs, 2)
  return {
    svcs,
    stop: async () => {
      for (const s of svcs) await s.stop()
      for (const c of conns) await c.close()
    },
  }
}

async function recover(svcs, generation) {
  const before = svcs[0].lastRecovery
  const t0 = performance.now()
  svcs[0].update({leader: true, leaderPnn: svcs[0].pnn, quorate: true, generation, participants: svcs.map((s) => s.pnn), lmasterCapable: () => true})
  while (svcs[0].lastRecovery === before || svcs.some((s) => s.frozen || s.generation !== svcs[0].lastRecovery.generation)) await new Promise((r) => setTimeout(r, 5))
  return performance.now() - t0
}

async function raw() {
  const r = await rawLevel(dir)
  out({case: 'raw classic-level', ...r})
  return r.putPerSec
}

async function local(rawPut) {
  const c = await cluster(1, [{name: 'local.tdb', kind: 'volatile'}])
  const svc = c.svcs[0]
  const N = 50_000
  const value = Buffer.alloc(32, 2)
  for (const owners of [1, 8]) {
    const t0 = performance.now()
    await Promise.all(
      Array.from({length: owners}, async (_x, o) => {
        for (let i = o; i < N; i += owners) {
          const r = await svc.fetchLock(`o${o}`, 'local.tdb', k(i % 10_000))
          await svc.store(`o${o}`, r.handle, value, true)
          // A local fetchLock + store never waits for I/O: let timers (the LevelDB writes) run.
          if (i % 64 < owners) await nextTurn()
        }
      }),
    )
    const perSec = N / ((performance.now() - t0) / 1000)
    out({case: 'local fetchLock+store in the service (no client socket; see bench/client.js)', owners, ops: N, perSec: Math.round(perSec), ofRawPut: Number((perSec / rawPut).toFixed(2))})
  }
  await c.stop()
}

async function fetchRing() {
  const c = await cluster(2, [{name: 'ring.tdb', kind: 'volatile'}])
  const N = 2000
  const key = Buffer.from('ring')
  const t0 = performance.now()
  await Promise.all(
    c.svcs.map(async (svc) => {
      for (let i = 0; i < N; i++) {
        const r = await svc.fetchLock('ring', 'ring.tdb', key)
        await svc.store('ring', r.handle, Buffer.from(String(Number(r.data?.toString() ?? '0') + 1)), true)
        // A local store never waits for I/O: let the other node's requests in, as socket clients do.
        await nextTurn()
      }
    }),
  )
  const s = (performance.now() - t0) / 1000
  const last = await c.svcs[0].fetch('ring.tdb', key)
  // Every fetch-lock on the node that is not data master migrates the record: at most one per increment.
  out({case: 'migrations between two nodes', increments: 2 * N, value: Number(last.data.toString()), rsn: last.header.rsn, migrationsPerSec: Math.round(last.header.rsn / s), incrementsPerSec: Math.round((2 * N) / s)})
  await c.stop()
}

async function commits() {
  const c = await cluster(3, [{name: 'p.tdb', kind: 'persistent'}])
  const N = 1000
  let t0 = performance.now()
  for (let i = 0; i < N; i++) {
    const svc = c.svcs[0]
    const tx = await svc.transactionStart('b', 'p.tdb')
    svc.transactionPut('b', tx, k(i), Buffer.from('v'))
    await svc.transactionCommit('b', tx)
  }
  out({case: 'persistent commits, one client', nodes: 3, commits: N, perSec: Math.round(N / ((performance.now() - t0) / 1000))})
  t0 = performance.now()
  await Promise.all(
    c.svcs.map(async (svc, p) => {
      for (let i = 0; i < N / 2; i++) {
        const tx = await svc.transactionStart(`b${p}`, 'p.tdb')
        svc.transactionPut(`b${p}`, tx, k(i), Buffer.from(`v${p}`))
        await svc.transactionCommit(`b${p}`, tx)
      }
    }),
  )
  out({case: 'persistent commits, a client on every node', nodes: 3, commits: (3 * N) / 2, perSec: Math.round((3 * N) / 2 / ((performance.now() - t0) / 1000))})
  await c.stop()
}

async function recovery(records) {
  const c = await cluster(3, [{name: 'r.tdb', kind: 'volatile'}])
  // Bench-only shortcut into the service internals (plain JavaScript sees private fields).
  const levels = c.svcs.map((s) => s.node.db('r.tdb'))
  const data = Buffer.alloc(16, 3)
  const per = [[], [], []]
  for (let i = 0; i < records; i++) per[i % 3].push(i)
  for (const [p, ids] of per.entries()) {
    for (let j = 0; j < ids.length; j += 10_000) {
      await levels[p].writeBatch(ids.slice(j, j + 10_000).map((i) => ({key: k(i), value: encodeValue({rsn: 1 + (i % 5), dmaster: p, flags: 0}, data)})))
    }
  }
  const ms = await recover(c.svcs, 3)
  const pushed = c.svcs[0].lastRecovery.records
  out({case: 'recovery, volatile', nodes: 3, records, ms: Math.round(ms), recordsRecovered: pushed})
  await c.stop()
}

// DB_BENCH=recovery (or raw,local,ring,commits) runs only those parts.
const only = process.env.DB_BENCH?.split(',')
const want = (part) => !only || only.includes(part)
try {
  const rawPut = want('raw') || want('local') ? await raw() : 0
  if (want('local')) await local(rawPut)
  if (want('ring')) await fetchRing()
  if (want('commits')) await commits()
  if (want('recovery')) {
    await recovery(100_000)
    await recovery(1_000_000)
  }
} finally {
  await stopNatsServers(servers)
  rmSync(dir, {recursive: true, force: true})
}
