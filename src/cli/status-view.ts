// What `ctdbctl status` shows: the answering node's view, with the last takeover run and
// recovery taken from the leader (only the leader runs them, and any node may answer).
import type {ClusterClient} from '../client/cluster-client.js'
import type {ClusterState} from '../cluster/state.js'

export async function statusView(client: ClusterClient, pnn?: number): Promise<ClusterState> {
  const state = await client.status(pnn)
  const leader = state.leader ?? -1
  if (leader < 0 || leader === state.thisNode) return state
  const fromLeader = await client.status(leader).catch(() => undefined)
  if (!fromLeader) return state
  return {
    ...state,
    ...(fromLeader.lastTakeoverRun ? {lastTakeoverRun: fromLeader.lastTakeoverRun} : {}),
    ...(fromLeader.lastRecovery ? {lastRecovery: fromLeader.lastRecovery} : {}),
  }
}
