// `ctdbctl status`, `nodes` and `leader` output from a state snapshot, modelled on `ctdb status`.
import {flagNamesToBits, nodeStatusLine, type NodeStatusEntry} from './nodestatus.js'
import {INACTIVE_MASK, NODE_FLAG_BITS, type ClusterState} from './state.js'

const INVALID_GENERATION = 1

function entries(state: ClusterState): {listed: NodeStatusEntry[]; deleted: number} {
  const listed: NodeStatusEntry[] = []
  let deleted = 0
  for (const n of [...state.nodes].sort((a, b) => a.pnn - b.pnn)) {
    const flags = flagNamesToBits(n.flags)
    if (flags & NODE_FLAG_BITS.DELETED) {
      deleted++
      continue
    }
    listed.push({pnn: n.pnn, address: n.address ?? '', flags, interfaceDown: Object.values(n.interfaces ?? {}).includes('down'), thisNode: n.pnn === state.thisNode})
  }
  return {listed, deleted}
}

export function renderNodeLines(state: ClusterState): string[] {
  const {listed, deleted} = entries(state)
  const count = deleted > 0 ? `Number of nodes:${listed.length + deleted} (including ${deleted} deleted nodes)` : `Number of nodes:${listed.length}`
  return [count, ...listed.map(nodeStatusLine)]
}

export function renderStatus(state: ClusterState): string {
  const {listed} = entries(state)
  const vnn = listed.filter((n) => (n.flags & INACTIVE_MASK) === 0)
  const generation = state.generation === undefined || state.generation === INVALID_GENERATION ? 'INVALID' : String(state.generation)
  const lines = [
    ...renderNodeLines(state),
    `Generation:${generation}`,
    `Size:${vnn.length}`,
    ...vnn.map((n, i) => `hash:${i} lmaster:${n.pnn}`),
    'Recovery mode:NORMAL (0)',
    `Leader:${state.leader === undefined || state.leader < 0 ? 'UNKNOWN' : state.leader}`,
    ...(state.lastTakeoverRun ? [`Last takeover run:${state.lastTakeoverRun.run} ${outcome(state.lastTakeoverRun)} in ${seconds(state.lastTakeoverRun.durationMs)} at ${state.lastTakeoverRun.startedAt} (${state.lastTakeoverRun.reason})`] : []),
    ...(state.lastRecovery ? [`Last recovery:${outcome(state.lastRecovery)} in ${seconds(state.lastRecovery.durationMs)} at ${state.lastRecovery.startedAt}`] : []),
  ]
  return lines.join('\n') + '\n'
}

function outcome(r: {ok: boolean; error?: string}): string {
  return r.ok ? 'OK' : `FAILED (${r.error ?? 'unknown error'})`
}

/** Seconds as `ctdb uptime` prints durations. */
function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} seconds`
}

/** `ctdbctl nodes`: one line per node with its name, deleted ones included. */
export function renderNodes(state: ClusterState): string {
  const rows = [...state.nodes].sort((a, b) => a.pnn - b.pnn).map((n) => {
    const bits = flagNamesToBits(n.flags)
    const flags = n.flags.length === 0 ? 'OK' : [...n.flags, ...(bits & INACTIVE_MASK ? ['INACTIVE'] : [])].join('|')
    return [String(n.pnn), n.name ?? '', n.address ?? '', flags + (n.pnn === state.leader ? ' LEADER' : '') + (n.pnn === state.thisNode ? ' (THIS NODE)' : '')]
  })
  const head = ['PNN', 'NAME', 'ADDRESS', 'FLAGS']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n'
}
