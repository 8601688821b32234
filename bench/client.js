#!/usr/bin/env node
// The client surface (issue 10), through the daemons' Unix sockets of a 2-node loopback sandbox
// (real nats-servers and daemons): local fetchLock+store per second with 1 and 8 clients
// (volatile database, each client on its own keys), and messaging throughput from a client on
// n1 to a client on n0 (send → delivered, in order), and raw classic-level puts in the same run
// as the reference (ofRawPut; issue 10's target is 0.2). One JSON line per result. For scale, the
// socket layer alone: the same fetchLock+store loop against a socket server in this process
// whose database does nothing (framing, dispatch and the client, no storage).
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {performance} from 'node:perf_hooks'
import {join} from 'node:path'
import {CtdbClient} from '../dist/client/ctdb-client.js'
import {ClientSocketServer} from '../dist/daemon/client-socket/server.js'
import pino from 'pino'
import {sandboxDown, sandboxUp} from '../dist/dev/sandbox.js'
import {waitForCluster} from '../dist/dev/wait.js'
import {rawLevel} from './_raw-level.js'

// A reader that stops early (`| head`) must not kill the run before it stops its servers.
process.stdout.on('error', () => undefined)

const SECONDS = Number(process.env.SECONDS ?? 3)
const MESSAGES = Number(process.env.MESSAGES ?? 50_000)
const WINDOW = 1000
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function socketOnly(dir) {
  const header = {rsn: 1, dmaster: 0, flags: 0}
  const db = {list: () => [], attach: async () => ({}), fetchLock: async () => ({handle: 1, header, data: Buffer.from('x')}), store: async () => {}, release: () => {}, closeOwner: () => {}}
  const server = new ClientSocketServer({path: join(dir, 'noop.sock'), pnn: 0, db, log: pino({level: 'silent'})})
  await server.start()
  try {
    console.log(JSON.stringify(await fetchLockStore(join(dir, 'noop.sock'), 1, 'socket layer only (no-op database)')))
  } finally {
    await server.stop()
  }
}

/** Runs the loop; returns its result line (printed right away for the socket layer alone). */
async function fetchLockStore(socket, clients, what = 'local fetchLock+store via socket') {
  const conns = await Promise.all(Array.from({length: clients}, () => CtdbClient.connect(socket)))
  try {
    await conns[0].attach('bench_client.tdb', 'volatile')
    // Warm up (JIT, LevelDB) for a second: what is measured is the steady state.
    const warm = performance.now() + 1000
    await Promise.all(conns.map(async (c, ci) => {
      for (let i = 0; performance.now() < warm; i++) await (await c.fetchLock('bench_client.tdb', `c${ci}-k${i % 100}`)).store('w')
    }))
    let ops = 0
    const until = performance.now() + SECONDS * 1000
    const start = performance.now()
    await Promise.all(conns.map(async (c, ci) => {
      for (let i = 0; performance.now() < until; i++) {
        const r = await c.fetchLock('bench_client.tdb', `c${ci}-k${i % 100}`)
        await r.store(`value ${i}`)
        ops++
      }
    }))
    const seconds = (performance.now() - start) / 1000
    return {bench: 'client', case: what, clients, ops, perSecond: Math.round(ops / seconds)}
  } catch (e) {
    return {bench: 'client', case: what, clients, error: e.message}
  } finally {
    await Promise.all(conns.map((c) => c.close()))
  }
}

async function messaging(from, to, size) {
  const [receiver, sender] = [await CtdbClient.connect(to), await CtdbClient.connect(from)]
  try {
    let got = 0
    let inOrder = true
    let resolveDone
    const done = new Promise((r) => (resolveDone = r))
    await receiver.register(0xae00000000000099n, (m) => {
      if (m.data.readUInt32BE(0) !== got) inOrder = false
      if (++got === MESSAGES) resolveDone()
    })
    const payload = Buffer.alloc(size)
    const start = performance.now()
    for (let i = 0; i < MESSAGES; i += WINDOW) {
      const batch = []
      for (let j = i; j < Math.min(i + WINDOW, MESSAGES); j++) {
        const data = Buffer.from(payload)
        data.writeUInt32BE(j, 0)
        batch.push(sender.send(receiver.pnn, 0xae00000000000099n, data))
      }
      await Promise.all(batch)
    }
    await Promise.race([done, sleep(120_000)])
    const seconds = (performance.now() - start) / 1000
    console.log(JSON.stringify({bench: 'client', case: 'messages between two nodes', bytes: size, messages: MESSAGES, delivered: got, inOrder, perSecond: Math.round(got / seconds)}))
  } finally {
    await Promise.all([receiver.close(), sender.close()])
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-bench-client-'))
await socketOnly(dir)
const sandbox = await sandboxUp({nodes: 2, dir: join(dir, 'sb'), name: 'benchclient'})
try {
  await waitForCluster(sandbox, 60_000)
  const sockets = sandbox.daemons.map((d) => join(d.dataDir, 'ctdbd.socket'))
  for (let i = 0; i < 200 && !sockets.every(existsSync); i++) await sleep(100)
  // Three runs each (this machine's speed drifts between seconds); the median is reported.
  const results = []
  for (const clients of [1, 8]) {
    const runs = []
    for (let i = 0; i < 3; i++) runs.push(await fetchLockStore(sockets[0], clients))
    runs.sort((a, b) => (a.perSecond ?? 0) - (b.perSecond ?? 0))
    results.push({...runs[1], runs: runs.map((r) => r.perSecond ?? r.error)})
  }
  // The reference, in the same run (it varies by a factor of 1.5 between runs here) and after
  // the loops, so its LevelDB's compactions do not compete with the daemon.
  const raw = await rawLevel(dir)
  console.log(JSON.stringify({bench: 'client', case: 'raw classic-level', ...raw}))
  for (const r of results) console.log(JSON.stringify({...r, ...(r.perSecond ? {ofRawPut: Number((r.perSecond / raw.putPerSec).toFixed(2))} : {})}))
  await messaging(sockets[1], sockets[0], 16)
  await messaging(sockets[1], sockets[0], 1024)
} finally {
  await sandboxDown(join(dir, 'sb'))
  rmSync(dir, {recursive: true, force: true})
}
