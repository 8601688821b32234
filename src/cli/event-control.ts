// Shared plumbing of the `event` commands: the --node flag and finding the nodes it names.
import {Flags, type Command} from '@oclif/core'
import type {ClusterClient} from '../client/cluster-client.js'
import type {NodeState} from '../cluster/state.js'

export const nodeFlag = Flags.string({char: 'n', summary: 'Node name or pnn (default: every connected node).', helpValue: 'NODE'})

/** The nodes a --node value names: that node, or every connected node. */
export async function targetNodes(cmd: Command, client: ClusterClient, node: string | undefined): Promise<NodeState[]> {
  const state = await client.status()
  if (node === undefined) return state.nodes.filter((n) => !n.flags.includes('DISCONNECTED'))
  const found = state.nodes.find((n) => n.name === node || String(n.pnn) === node)
  if (!found) return cmd.error(`no node "${node}" in cluster ${state.cluster}`, {exit: 1})
  return [found]
}
