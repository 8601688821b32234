#!/usr/bin/env node
// Connection tracking ("tickles", issue 8).
//   scan:     the pure work of one tracking scan with N established connections (parse `ss`
//             output, pick the connections of one public address, encode and decode the KV
//             record); median of 5 runs. No root needed.
//   takeover: a 2-node lab cluster in network namespaces (needs root and a build); N idle
//             clients hold connections to port 445 of the public address; the address is moved
//             (`ip move`) back and forth REPS times (default 3). Reported: the time from the new
//             holder adding the address (its log line) to the first and to the last client
//             ECONNRESET, medians over the moves. Port 445: the releasing node resets only its
//             own sockets, so every client reset comes from the new holder's tickle ACKs.
// One JSON line per case.
import {readFileSync} from 'node:fs'
import readline from 'node:readline'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'
import {connectionsOf, parseSsEstablished} from '../dist/tickles/connections.js'
import {decodeRecord, encodeRecord} from '../dist/tickles/record.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PEER = `${ROOT}test/system/killtcp-peer.mjs`
const REPS = Number(process.env.TICKLES_BENCH_REPS ?? 3)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

function scanBench(n) {
  const lines = []
  for (let i = 0; i < n; i++) lines.push(`0      0      10.0.${1 + (i % 2)}.101:445      10.0.9.${i % 250}:${10000 + Math.floor(i / 250)}`)
  const text = lines.join('\n') + '\n'
  const times = []
  let kept = 0
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now()
    const list = connectionsOf(parseSsEstablished(text), '10.0.1.101')
    const d = decodeRecord(encodeRecord({v: 1, address: '10.0.1.101', pnn: 0, time: new Date().toISOString(), connections: list}))
    times.push(performance.now() - t0)
    kept = d.record.connections.length
  }
  console.log(JSON.stringify({bench: 'tickles', case: 'scan', established: n, tracked: kept, medianMs: Math.round(median(times) * 10) / 10}))
}

async function waitFor(what, check, timeoutMs, interval = 100) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(interval)
  }
}

class Peer {
  constructor(child) {
    this.child = child
    this.lines = []
    this.waiters = []
    readline.createInterface({input: child.stdout}).on('line', (l) => (this.waiters.length ? this.waiters.shift()(l) : this.lines.push(l)))
  }
  next() {
    return this.lines.length ? Promise.resolve(JSON.parse(this.lines.shift())) : new Promise((r) => this.waiters.push((l) => r(JSON.parse(l))))
  }
  command(c) {
    this.child.stdin.write(`${c}\n`)
    return this.next()
  }
}

async function takeoverBench(counts) {
  const {createLabCluster} = await import('../dist/dev/lab-cluster.js')
  const {nsSpawn} = await import('../dist/dev/netlab.js')
  const {TickleStore} = await import('../dist/tickles/store.js')
  const lc = await createLabCluster({nodes: 2, publicAddresses: 1})
  const vip = lc.publicAddresses[0]
  const children = []
  const spawnPeer = (ns, args) => {
    const c = nsSpawn(ns, [process.execPath, PEER, ...args], {stdio: ['pipe', 'pipe', 'inherit']})
    children.push(c)
    return new Peer(c)
  }
  try {
    const client = await waitFor('a client', () => lc.client(), 30_000, 200)
    const store = await TickleStore.open(client.connection, lc.cluster, 2)
    await waitFor('the address to be held', async () => (await client.status()).publicAddresses[0].pnn >= 0, 60_000)
    for (const node of lc.lab.nodes) await spawnPeer(node.ns, ['server', '0.0.0.0', '445']).next()
    for (const n of counts) {
      const first = []
      const last = []
      for (let rep = 0; rep < REPS; rep++) {
        const from = (await client.status()).publicAddresses[0].pnn
        const to = 1 - from
        const peer = spawnPeer(lc.lab.client.ns, ['client', vip, '445', String(n)])
        const ready = await peer.next()
        if (ready.connected !== n) throw new Error(`only ${ready.connected}/${n} connections`)
        await waitFor('the connections to be tracked', async () => (await store.get(vip))?.connections.length === n && (await store.get(vip)).pnn === from, 30_000)
        await sleep(500)
        const startedAt = Date.now()
        await client.moveIp((await client.status()).leader, vip, to)
        const r = await waitFor('every client to be reset', async () => {
          const rep = await peer.command('report')
          return rep.errors.ECONNRESET === n ? peer.command('times') : undefined
        }, 15_000)
        const takenAt = readFileSync(lc.daemons[to].log, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.action === 'add' && e.address === vip && Date.parse(e.time) >= startedAt - 1000).map((e) => Date.parse(e.time)).at(-1)
        first.push(r.firstErrorAt.ECONNRESET - takenAt)
        last.push(r.lastErrorAt.ECONNRESET - takenAt)
        peer.child.kill('SIGKILL')
        await sleep(2500) // the new holder's scan replaces the list
      }
      console.log(JSON.stringify({bench: 'tickles', case: 'takeover', clients: n, moves: REPS, firstResetAfterTakeMs: median(first), lastResetAfterTakeMs: median(last), runs: last}))
    }
    await client.close()
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await lc.destroy()
  }
}

for (const n of [1000, 10000, 100000]) scanBench(n)
if (process.getuid?.() !== 0) {
  console.error('bench/tickles: the takeover case needs root (network namespaces); skipped')
  process.exit(1)
}
await takeoverBench([1, 100, 1000])
