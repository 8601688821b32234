#!/usr/bin/env node
// killtcp benchmark: wall time to reset 1,000 and 10,000 established TCP connections with
// `ctdbctl killtcp`, and with CTDB's /usr/libexec/ctdb/ctdb_killtcp on an identical connection set
// (same count, addresses and direction; fresh connections for every run) when it is installed.
// Network namespaces (dist/dev/netlab.js): a server on a public address in a node namespace, a
// client namespace opening the connections, the killer run inside the server's namespace.
// Cases (lines as CTDB's releaseip writes them):
//   both    1,000 connections, `PEER LOCAL` and `LOCAL PEER` per connection (2,000 lines)
//   clients N connections, `LOCAL PEER`: resets the remote clients (N lines)
//   servers N connections, `PEER LOCAL`: resets the local sockets, as for SMB ports (N lines)
// (10,000 connections in "both" mode would need 20,000 tickles; CTDB's schedule allows 50 × 300 =
// 15,000 per run, for both tools, so that case only measures the round limit and is left out.)
// Time is from spawning the killer until it exits, with all its input written at once; "killed"
// counts the targeted sockets no longer established afterwards (ss). Every run is repeated
// (KILLTCP_BENCH_REPS, default 3) and the median time is reported.
// Prints one JSON line per tool and case, then one ratio line per case (ours / ctdb's; < 1 means
// faster). Needs root, iproute2, tcpdump and a build (npm run build).
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {performance} from 'node:perf_hooks'
import readline from 'node:readline'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {createNetLab, destroyNetLab, nsExec, nsSpawn} from '../dist/dev/netlab.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PEER = `${ROOT}test/system/killtcp-peer.mjs`
const CTDB_KILLTCP = '/usr/libexec/ctdb/ctdb_killtcp'
const REPS = Number(process.env.KILLTCP_BENCH_REPS ?? 3)
const CASES = [
  {connections: 1000, mode: 'both'},
  {connections: 1000, mode: 'clients'},
  {connections: 10000, mode: 'clients'},
  {connections: 10000, mode: 'servers'},
]

if (process.getuid?.() !== 0) {
  console.error('bench/killtcp.js needs root (network namespaces and raw sockets)')
  process.exit(1)
}
for (const [tool, pkg] of [['tcpdump', 'tcpdump'], ['ss', 'iproute2']]) {
  if (spawnSync(tool, ['--version'], {stdio: 'ignore'}).error) {
    console.error(`bench/killtcp.js needs ${tool} (Debian package ${pkg})`)
    process.exit(1)
  }
}
if (!existsSync(`${ROOT}dist/commands/killtcp.js`)) {
  console.error('dist/ is missing: run npm run build first')
  process.exit(1)
}
const haveCtdb = existsSync(CTDB_KILLTCP)
if (!haveCtdb) console.error(`${CTDB_KILLTCP} is not installed (Debian package ctdb): measuring ctdbctl only`)

const TOOLS = {
  ctdbctl: [process.execPath, `${ROOT}bin/run.js`, 'killtcp', '--interface', 'eth1'],
  ctdb_killtcp: [CTDB_KILLTCP, 'eth1'],
}

/** JSON lines from a peer process. */
function peer(ns, args) {
  const child = nsSpawn(ns, [process.execPath, PEER, ...args], {stdio: ['pipe', 'pipe', 'inherit']})
  const queue = []
  let waiter
  readline.createInterface({input: child.stdout}).on('line', (l) => {
    if (waiter) {
      const w = waiter
      waiter = undefined
      w(JSON.parse(l))
    } else queue.push(JSON.parse(l))
  })
  const next = () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => (waiter = resolve)))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise((r) => child.once('close', r))
    process.kill(child.pid, 'SIGKILL')
    await gone
  }
  return {child, next, stop}
}

async function established(ns, filter) {
  const out = await nsExec(ns, ['ss', '-tnH', 'state', 'established', filter])
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/).slice(2, 4))
}

function runKiller(ns, argv, input) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = nsSpawn(ns, argv, {stdio: ['pipe', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, ms: performance.now() - t0, stderr}))
    child.stdin.on('error', () => undefined)
    child.stdin.end(input)
  })
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const lab = await createNetLab({nodes: 1})
const peers = []
let exitCode = 0
try {
  const node = lab.nodes[0].ns
  const a = lab.publicNet.split('.')[1]
  const address = `10.${a}.1.101`
  await nsExec(node, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth1'])
  let port = 6000
  for (const c of CASES) {
    const results = {}
    for (const tool of haveCtdb ? ['ctdbctl', 'ctdb_killtcp'] : ['ctdbctl']) {
      const runs = []
      for (let rep = 0; rep < REPS; rep++) {
        port++
        const server = peer(node, ['server', address, String(port)])
        peers.push(server)
        await server.next()
        const client = peer(lab.client.ns, ['client', address, String(port), String(c.connections)])
        peers.push(client)
        const up = await client.next()
        if (up.connected !== c.connections) throw new Error(`only ${up.connected} of ${c.connections} connections were established`)
        const conns = await established(node, `( sport = :${port} )`)
        if (conns.length !== c.connections) throw new Error(`ss shows ${conns.length} connections, expected ${c.connections}`)
        const lines = conns.flatMap(([local, peerAddr]) =>
          c.mode === 'both' ? [`${peerAddr} ${local}`, `${local} ${peerAddr}`] : c.mode === 'clients' ? [`${local} ${peerAddr}`] : [`${peerAddr} ${local}`],
        )
        const r = await runKiller(node, TOOLS[tool], lines.join('\n') + '\n')
        if (r.code !== 0) throw new Error(`${tool} exited with ${r.code}: ${r.stderr.trim()}`)
        await sleep(200)
        const leftServer = (await established(node, `( sport = :${port} )`)).length
        const leftClient = (await established(lab.client.ns, `( dport = :${port} )`)).length
        const targeted = c.mode === 'both' ? 2 * c.connections : c.connections
        const left = c.mode === 'both' ? leftServer + leftClient : c.mode === 'clients' ? leftClient : leftServer
        runs.push({ms: r.ms, killed: targeted - left, targeted})
        await client.stop()
        await server.stop()
      }
      const ms = median(runs.map((x) => x.ms))
      const killed = Math.min(...runs.map((x) => x.killed))
      results[tool] = {ms, killed}
      console.log(
        JSON.stringify({
          bench: 'killtcp',
          tool,
          connections: c.connections,
          mode: c.mode,
          lines: runs[0].targeted,
          ms: Math.round(ms),
          runsMs: runs.map((x) => Math.round(x.ms)),
          socketsReset: killed,
          socketsTargeted: runs[0].targeted,
        }),
      )
    }
    if (results.ctdb_killtcp) {
      console.log(
        JSON.stringify({
          bench: 'killtcp',
          ratio: Math.round((results.ctdbctl.ms / results.ctdb_killtcp.ms) * 100) / 100,
          connections: c.connections,
          mode: c.mode,
          ctdbctlMs: Math.round(results.ctdbctl.ms),
          ctdbKilltcpMs: Math.round(results.ctdb_killtcp.ms),
          ctdbctlReset: results.ctdbctl.killed,
          ctdbKilltcpReset: results.ctdb_killtcp.killed,
        }),
      )
    }
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : e)
  exitCode = 1
} finally {
  for (const p of peers) await p.stop()
  await destroyNetLab(lab)
}
process.exit(exitCode)
