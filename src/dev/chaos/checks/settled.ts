// The invariants checked once a fault is healed and the cluster has had time to settle
// (bounded): every node answers `status` and agrees on one leader, no node has a flag, every
// public address is assigned; each address is configured in exactly one node namespace, the one
// `status` names; it answers from the client namespace, served by that node; and each daemon's
// metrics say the same as its `status`; with database clients running, every committed
// persistent transaction is on every node. Not getting there within the bound is a violation of
// each invariant still failing, with what was last seen.
import {ClusterClient} from '../../../client/cluster-client.js'
import type {ClusterState} from '../../../cluster/state.js'
import {nsExec} from '../../netlab.js'
import type {ChaosContext} from '../context.js'
import {scrapeInNamespace} from './lock.js'
import {metricValue, parseMetrics} from './prometheus.js'

type Problems = Record<string, string | undefined>

export const SETTLED_INVARIANTS = ['cluster-agrees', 'address-held-once', 'address-answers', 'metrics-match-status', 'persistent-committed'] as const

async function statuses(ctx: ChaosContext): Promise<ClusterState[]> {
  const client = await ClusterClient.connect({cluster: ctx.lc.cluster, nats: ctx.lc.natsTarget()}, 2000)
  try {
    return await Promise.all(ctx.lc.lab.nodes.map((n) => client.status(n.index)))
  } finally {
    await client.close().catch(() => undefined)
  }
}

function agreement(states: ClusterState[]): string | undefined {
  const leader = states[0].leader ?? -1
  if (leader < 0) return 'no leader'
  const holders = (s: ClusterState) => JSON.stringify(s.publicAddresses.map((a) => [a.address, a.pnn]).sort())
  for (const s of states) {
    if (s.leader !== leader) return `leaders seen: ${states.map((x) => x.leader).join(', ')}`
    const flagged = s.nodes.filter((n) => n.flags.length > 0)
    if (flagged.length > 0) return `node ${s.thisNode} sees flags ${flagged.map((n) => `${n.pnn}:${n.flags.join('|')}`).join(' ')}`
    const free = s.publicAddresses.filter((a) => a.pnn < 0)
    if (free.length > 0) return `node ${s.thisNode} sees unassigned ${free.map((a) => a.address).join(' ')}`
    if (holders(s) !== holders(states[0])) return `nodes ${states[0].thisNode} and ${s.thisNode} disagree on the holders`
  }
  return undefined
}

async function heldOnce(ctx: ChaosContext, state: ClusterState): Promise<string | undefined> {
  const where = new Map<string, number[]>()
  for (const node of ctx.lc.lab.nodes) {
    const links = JSON.parse(await nsExec(node.ns, ['ip', '-j', 'addr', 'show', 'dev', 'eth1'])) as {addr_info: {local: string}[]}[]
    for (const a of links.flatMap((l) => l.addr_info.map((i) => i.local))) where.set(a, [...(where.get(a) ?? []), node.index])
  }
  for (const a of state.publicAddresses) {
    const on = where.get(a.address) ?? []
    if (on.length !== 1 || on[0] !== a.pnn) return `${a.address}: status says node ${a.pnn}, configured on [${on.join(', ')}]`
  }
  return undefined
}

async function answers(ctx: ChaosContext, state: ClusterState): Promise<string | undefined> {
  const seen = await ctx.lc.probe()
  const wrong = state.publicAddresses.filter((a) => seen[a.address] !== `n${a.pnn}`)
  return wrong.length === 0 ? undefined : wrong.map((a) => `${a.address}: held by n${a.pnn}, answered by ${seen[a.address] ?? 'nobody'}`).join('; ')
}

async function metricsMatch(ctx: ChaosContext, states: ClusterState[]): Promise<string | undefined> {
  for (const s of states) {
    const pnn = s.thisNode!
    const text = await scrapeInNamespace(ctx, pnn)
    if (text === undefined) return `node ${pnn}: /metrics does not answer`
    const m = parseMetrics(text)
    const mismatch = (what: string, metric: number | undefined, status: number) => (metric === status ? undefined : `node ${pnn}: ${what} is ${metric} in /metrics, ${status} in status`)
    const found =
      mismatch('ctdbctl_leader_pnn', metricValue(m, 'ctdbctl_leader_pnn'), s.leader ?? -1) ??
      mismatch('ctdbctl_is_leader', metricValue(m, 'ctdbctl_is_leader'), s.leader === pnn ? 1 : 0) ??
      mismatch('ctdbctl_generation', metricValue(m, 'ctdbctl_generation'), s.generation ?? 1) ??
      mismatch('ctdbctl_addresses_held', metricValue(m, 'ctdbctl_addresses_held'), s.publicAddresses.filter((a) => a.pnn === pnn).length) ??
      s.publicAddresses.map((a) => mismatch(`ctdbctl_address_holder{address="${a.address}"}`, metricValue(m, 'ctdbctl_address_holder', {address: a.address}), a.pnn)).find(Boolean) ??
      s.nodes.flatMap((n) => n.flags.length === 0 && m.some((x) => x.name === 'ctdbctl_node_flag' && x.labels.node_pnn === String(n.pnn) && x.value !== 0) ? [`node ${pnn}: /metrics shows a flag on node ${n.pnn}, status none`] : []).find(Boolean)
    if (found) return found
  }
  return undefined
}

/** One look at the whole cluster: what is wrong, by invariant (undefined = holds). */
async function observe(ctx: ChaosContext): Promise<Problems> {
  let states: ClusterState[]
  try {
    states = await statuses(ctx)
  } catch (e) {
    return {'cluster-agrees': `status: ${(e as Error).message}`}
  }
  const disagreement = agreement(states)
  if (disagreement) return {'cluster-agrees': disagreement}
  return {
    'address-held-once': await heldOnce(ctx, states[0]),
    'address-answers': await answers(ctx, states[0]),
    'metrics-match-status': await metricsMatch(ctx, states),
    'persistent-committed': await ctx.lostCommits?.().catch((e: Error) => `reading the databases: ${e.message}`),
  }
}

/** Waits (bounded) for every settled invariant to hold; records each as a check. */
export async function checkSettled(ctx: ChaosContext, timeoutMs: number): Promise<number> {
  const started = Date.now()
  let problems: Problems = {}
  for (;;) {
    try {
      problems = await observe(ctx)
    } catch (e) {
      problems = {'cluster-agrees': (e as Error).message}
    }
    if (Object.values(problems).every((p) => p === undefined)) break
    if (Date.now() - started > timeoutMs) break
    await new Promise((r) => setTimeout(r, 500))
  }
  // When the nodes never agreed, the other invariants had nothing to be checked against.
  const checked = problems['cluster-agrees'] !== undefined ? (['cluster-agrees'] as const) : SETTLED_INVARIANTS.filter((n) => n !== 'persistent-committed' || ctx.lostCommits)
  for (const name of checked) ctx.rec.check(name, problems[name] === undefined, `not settled within ${timeoutMs} ms: ${problems[name]}`)
  return Date.now() - started
}
