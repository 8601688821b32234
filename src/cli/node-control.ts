// The node administration commands (ban, unban, disable, enable, stop, continue): send the
// control to the node, then wait until the cluster shows the new flag, as `ctdb` does.
import {Args, type Command} from '@oclif/core'
import type {NodeFlag} from '../cluster/state.js'
import {liveFlags, withCluster} from './live.js'

export const pnnArg = {pnn: Args.integer({description: 'pnn of the node', required: true, min: 0})}
export const controlFlags = liveFlags

export type FlagOp = 'ban' | 'unban' | 'disable' | 'enable' | 'stop' | 'continue'

const EFFECT: Record<FlagOp, {flag: NodeFlag; present: boolean}> = {
  ban: {flag: 'BANNED', present: true},
  unban: {flag: 'BANNED', present: false},
  disable: {flag: 'DISABLED', present: true},
  enable: {flag: 'DISABLED', present: false},
  stop: {flag: 'STOPPED', present: true},
  continue: {flag: 'STOPPED', present: false},
}

export async function runNodeControl(
  cmd: Command,
  flags: {config?: string; nats?: string; cluster?: string; timeout: number},
  pnn: number,
  op: FlagOp,
  seconds?: number,
): Promise<void> {
  await withCluster(cmd, flags, async (client) => {
    const reply = await client.control(pnn, op, seconds)
    if (!reply.changed) {
      if (reply.message) process.stdout.write(`${reply.message}\n`)
      return
    }
    const {flag, present} = EFFECT[op]
    const deadline = Date.now() + flags.timeout * 1000
    for (;;) {
      const state = await client.status()
      const node = state.nodes.find((n) => n.pnn === pnn)
      if (node && node.flags.includes(flag) === present) return
      if (Date.now() > deadline) throw new Error(`node ${pnn} accepted "${op}" but the cluster did not show it within ${flags.timeout} s`)
      await new Promise((r) => setTimeout(r, 100))
    }
  })
}
