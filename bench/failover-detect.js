#!/usr/bin/env node
// Failure detection and leader failover on a 3-node `dev up` sandbox (default tunables:
// keepaliveInterval 250ms, keepaliveLimit 4; cluster lock nats-kv, ttl 3s).
//  - disconnected: 20 rounds killing (SIGKILL) the daemon of a non-leader; time from the kill until
//    another node's status shows it DISCONNECTED (polled every 10 ms).
//  - new-leader: 20 rounds killing the leader's daemon; time from the kill until both survivors
//    report the same new leader (>= 0, not the old one).
// After each round the daemon is restarted and the cluster left to settle (every node sees every
// node without flags and the same leader).
// Prints one JSON line per case: {"bench":"failover-detect","case":…,"rounds":20,"medianMs":…,"p90Ms":…,"maxMs":…,"runs":[…]}
// Needs a build first (npm run build).
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {setTimeout as sleep} from 'node:timers/promises'
import {ClusterClient} from '../dist/client/cluster-client.js'
import {sandboxDown, sandboxFile, sandboxUp, startDaemon} from '../dist/dev/sandbox.js'
import {allAgree, waitForCluster} from '../dist/dev/wait.js'

const NODES = 3
const ROUNDS = 20
const POLL_MS = 10
const ROUND_TIMEOUT_MS = 30_000
const SETTLE_TIMEOUT_MS = 60_000

function stats(runs) {
  const s = [...runs].sort((a, b) => a - b)
  const n = s.length
  return {medianMs: Math.round((s[(n - 1) >> 1] + s[n >> 1]) / 2), p90Ms: s[Math.ceil(0.9 * n) - 1], maxMs: s[n - 1]}
}

const tmp = mkdtempSync(path.join(tmpdir(), 'ctdbctl-bench-failover-'))
const dir = path.join(tmp, 'sandbox')
/** Process groups of killed daemons: their mutex helper outlives them for a while. */
const orphanGroups = new Set()
let client
let down

function killGroup(pgid) {
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // already gone
  }
  orphanGroups.delete(pgid)
}

const cleanup = () =>
  (down ??= (async () => {
    await client?.close().catch(() => undefined)
    await sandboxDown(dir).catch(() => undefined)
    for (const pgid of [...orphanGroups]) killGroup(pgid)
    rmSync(tmp, {recursive: true, force: true})
  })())
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanup().finally(() => process.exit(130))
  })
}

/** Polls every POLL_MS until `probe` returns a value; throws after ROUND_TIMEOUT_MS. */
async function until(what, probe) {
  const deadline = performance.now() + ROUND_TIMEOUT_MS
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(POLL_MS)
  }
}

async function main() {
  const sandbox = await sandboxUp({nodes: NODES, dir, name: 'bench-failover'})
  await waitForCluster(sandbox, SETTLE_TIMEOUT_MS)
  client = await ClusterClient.connect({cluster: sandbox.cluster, nats: {servers: sandbox.nats.map((s) => s.url)}}, 2000)
  const pnns = sandbox.daemons.map((d) => d.pnn)

  /** Kills the daemon of `pnn` (SIGKILL, the daemon only) and returns the time of the kill. */
  function kill(pnn) {
    const d = sandbox.daemons.find((x) => x.pnn === pnn)
    orphanGroups.add(d.pid) // detached: the daemon leads its own process group
    const t0 = performance.now()
    process.kill(d.pid, 'SIGKILL')
    return {t0, pid: d.pid}
  }

  /** Restarts the daemon of `pnn` (recorded in dev.json for dev down) and waits until the cluster settles. */
  async function restart(pnn, oldPid) {
    killGroup(oldPid) // the old daemon's helper, if it still runs
    const i = sandbox.daemons.findIndex((x) => x.pnn === pnn)
    sandbox.daemons[i] = startDaemon(sandbox, pnn)
    writeFileSync(sandboxFile(sandbox.dir), JSON.stringify(sandbox, null, 2) + '\n')
    await waitForCluster(sandbox, SETTLE_TIMEOUT_MS, allAgree)
  }

  const leaderNow = async () => (await waitForCluster(sandbox, SETTLE_TIMEOUT_MS, allAgree)).leader

  // A non-leader dies: how long until a survivor marks it DISCONNECTED?
  const disconnected = []
  for (let round = 0; round < ROUNDS; round++) {
    const leader = await leaderNow()
    const others = pnns.filter((p) => p !== leader)
    const victim = others[round % others.length]
    const observer = pnns.find((p) => p !== victim && p !== leader) ?? leader
    const {t0, pid} = kill(victim)
    const ms = await until(`node ${victim} DISCONNECTED at node ${observer}`, async () => {
      const state = await client.status(observer)
      return state.nodes.find((n) => n.pnn === victim)?.flags.includes('DISCONNECTED') ? performance.now() - t0 : undefined
    })
    disconnected.push(Math.round(ms))
    await restart(victim, pid)
  }
  console.log(JSON.stringify({bench: 'failover-detect', case: 'disconnected', rounds: ROUNDS, ...stats(disconnected), runs: disconnected}))

  // The leader dies: how long until the survivors agree on a new one?
  const newLeader = []
  for (let round = 0; round < ROUNDS; round++) {
    const leader = await leaderNow()
    const survivors = pnns.filter((p) => p !== leader)
    const {t0, pid} = kill(leader)
    const ms = await until(`a new leader after node ${leader}`, async () => {
      const states = await Promise.all(survivors.map((p) => client.status(p)))
      const l = states[0].leader ?? -1
      return l >= 0 && l !== leader && states.every((s) => s.leader === l) ? performance.now() - t0 : undefined
    })
    newLeader.push(Math.round(ms))
    await restart(leader, pid)
  }
  console.log(JSON.stringify({bench: 'failover-detect', case: 'new-leader', rounds: ROUNDS, ...stats(newLeader), runs: newLeader}))
}

let failed = false
try {
  await main()
} catch (e) {
  failed = true
  console.error(`bench failover-detect: ${e instanceof Error ? e.message : e}`)
} finally {
  await cleanup()
}
process.exit(failed ? 1 : 0)
