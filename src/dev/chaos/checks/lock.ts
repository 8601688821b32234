// "Never two cluster-lock holders", sampled continuously. What is observable without racing
// the cluster: each daemon's own belief, read inside its namespace from its metrics
// (ctdbctl_is_leader: it leads only while its lock helper holds the lock), all nodes in
// parallel about every 500 ms. A node that does not answer (frozen, restarting) counts as no
// claim: a frozen process can act on nothing. These scrapes also show the metrics endpoint
// answering during the chaos (counted in the summary), and tell when a node was out of the
// cluster in its peers' eyes (for the volatile RSN check).
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import type {ChaosContext} from '../context.js'
import {metricValue, parseMetrics, type Sample} from './prometheus.js'

const run = promisify(execFile)
const INTERVAL_MS = 500
const INACTIVE = new Set(['DISCONNECTED', 'BANNED', 'STOPPED'])

/** One node's metrics, fetched inside its namespace (reachable even when its links are cut). */
export async function scrapeInNamespace(ctx: ChaosContext, pnn: number): Promise<string | undefined> {
  try {
    const {stdout} = await run('ip', ['netns', 'exec', ctx.lc.lab.nodes[pnn].ns, 'curl', '-sf', '-m', '1', `http://127.0.0.1:${ctx.metricsPort}/metrics`])
    ctx.rec.metricsScrapes.ok++
    return stdout
  } catch {
    ctx.rec.metricsScrapes.failed++
    return undefined
  }
}

export class LockSampler {
  private running = false
  private loop: Promise<void> | undefined

  constructor(private readonly ctx: ChaosContext) {}

  start(): void {
    this.running = true
    this.loop = (async () => {
      while (this.running) {
        await this.sample()
        await new Promise((r) => setTimeout(r, INTERVAL_MS))
      }
    })()
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
  }

  private async sample(): Promise<void> {
    const nodes = this.ctx.lc.lab.nodes.map((n) => n.index)
    // Each answer is used as it arrives: a frozen node's scrape takes its whole timeout, and the
    // departures the others report must not wait for it.
    const parsed = await Promise.all(
      nodes.map(async (pnn) => {
        const text = await scrapeInNamespace(this.ctx, pnn)
        if (text === undefined) return undefined
        const samples = parseMetrics(text)
        this.noteInactive(pnn, samples, nodes.length)
        return samples
      }),
    )
    const claims = nodes.filter((_, i) => parsed[i] !== undefined && metricValue(parsed[i]!, 'ctdbctl_is_leader') === 1)
    this.ctx.rec.check('single-lock-holder', claims.length <= 1, `nodes ${claims.join(', ')} all report holding the cluster lock`)
  }

  private noteInactive(observer: number, samples: Sample[], nodeCount: number): void {
    const inactive = samples.filter((x) => x.name === 'ctdbctl_node_flag' && x.value === 1 && INACTIVE.has(x.labels.flag) && Number(x.labels.node_pnn) !== observer)
    // Only a node that sees a majority counts: an isolated node sees everyone else disconnected.
    if (new Set(inactive.map((x) => x.labels.node_pnn)).size >= nodeCount / 2) return
    const now = Date.now()
    for (const x of inactive) this.ctx.lastSeenInactive.set(Number(x.labels.node_pnn), now)
  }
}
