#!/usr/bin/env node
// Failover time as clients see it (issue 7): a 3-node lab cluster in network namespaces with 6
// public addresses; a client namespace connects to every address every 10 ms. Each round kills
// a node (its links down, its daemon frozen) and measures the time until every address answers
// again; then the node returns and the cluster settles. Needs root. One JSON line.
import {createLabCluster} from '../dist/dev/lab-cluster.js'

const ROUNDS = Number(process.env.ROUNDS ?? 10)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const v = await check()
      if (v) return v
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

if (process.getuid?.() !== 0) {
  console.error('bench/failover needs root (network namespaces); run it as root')
  process.exit(1)
}

const lc = await createLabCluster({nodes: 3, publicAddresses: 6})
const {execFile} = await import('node:child_process')
const run = (argv) => new Promise((resolve, reject) => execFile(argv[0], argv.slice(1), (e) => (e ? reject(e) : resolve())))
const setLinks = async (pnn, up) => {
  for (const tag of ['p', 'u']) await run(['ip', '-n', lc.lab.hub, 'link', 'set', `${lc.lab.prefix}${pnn}${tag}o`, up ? 'up' : 'down'])
}
const balanced = async () => {
  const a = await lc.probe()
  const counts = {}
  for (const n of Object.values(a)) if (n) counts[n] = (counts[n] ?? 0) + 1
  return Object.values(a).every(Boolean) && Object.values(counts).length === 3 && Object.values(counts).every((c) => c === 2)
}

const times = []
try {
  const client = await waitFor('a client', () => lc.client(), 30_000)
  await waitFor('the cluster to settle', balanced, 60_000)
  for (let round = 0; round < ROUNDS; round++) {
    const status = await client.status()
    const victim = [0, 1, 2].find((p) => p !== status.leader) // a non-leader: CTDB's common case
    const victimName = `n${victim}`
    const watcher = lc.watch()
    let buffer = ''
    const answers = new Map()
    let lastGap = 0
    let killedAt = 0
    const recovered = new Promise((resolve) => {
      watcher.stdout.on('data', (chunk) => {
        buffer += chunk
        let nl
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl)
          buffer = buffer.slice(nl + 1)
          const e = JSON.parse(line)
          answers.set(e.address, e.node)
          if (killedAt && e.node === null) lastGap = e.t
          if (killedAt && answers.size === lc.publicAddresses.length && [...answers.values()].every((n) => n && n !== victimName)) resolve(e.t)
        }
      })
    })
    await sleep(300)
    killedAt = Date.now()
    process.kill(lc.daemons[victim].pid, 'SIGSTOP')
    await setLinks(victim, false)
    const back = await Promise.race([recovered, sleep(20_000).then(() => undefined)])
    watcher.kill('SIGKILL')
    await setLinks(victim, true)
    process.kill(lc.daemons[victim].pid, 'SIGCONT')
    if (back === undefined) throw new Error(`round ${round}: addresses did not come back within 20 s`)
    times.push(back - killedAt)
    void lastGap
    await waitFor('the cluster to settle again', balanced, 60_000)
  }
  await client.close()
} finally {
  await lc.destroy()
}
const sorted = [...times].sort((a, b) => a - b)
console.log(JSON.stringify({bench: 'failover', nodes: 3, addresses: 6, rounds: times.length, medianMs: sorted[sorted.length >> 1], maxMs: sorted.at(-1), minMs: sorted[0], runs: times}))
