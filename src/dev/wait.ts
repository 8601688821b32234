// Waiting for a sandbox cluster to settle: every daemon answers and agrees on one leader.
import {ClusterClient} from '../client/cluster-client.js'
import type {ClusterState} from '../cluster/state.js'
import {sandboxNats, type Sandbox} from './sandbox.js'

export async function waitForCluster(sandbox: Sandbox, timeoutMs: number, ok: (states: ClusterState[]) => boolean = allAgree): Promise<ClusterState> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    let client: ClusterClient | undefined
    try {
      client = await ClusterClient.connect({cluster: sandbox.cluster, nats: sandboxNats(sandbox)}, 1000)
      const states = await Promise.all(sandbox.daemons.map((d) => client!.status(d.pnn)))
      if (ok(states)) return states[0]
      last = `leaders seen: ${states.map((s) => s.leader).join(', ')}`
    } catch (e) {
      last = (e as Error).message
    } finally {
      await client?.close().catch(() => undefined)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`cluster "${sandbox.cluster}" did not settle within ${timeoutMs} ms (${last})`)
}

/** Every node sees every node without flags, running a config revision, and the same leader. */
export function allAgree(states: ClusterState[]): boolean {
  const leader = states[0]?.leader ?? -1
  return leader >= 0 && states.every((s) => s.leader === leader && s.nodes.every((n) => n.flags.length === 0 && (n.configRevision ?? 0) > 0))
}
