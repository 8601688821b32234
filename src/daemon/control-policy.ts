// Which controls a daemon accepts on which subject. Operator controls arrive on
// `…admin.<pnn>`; node-to-node controls on `…control.<pnn>.from.<sender>`, where (with NATS
// authentication) the server guarantees the sender. Pure, so the rules are testable alone.
import type {ControlOp} from '../protocol/messages.js'

export type ControlChannel = {kind: 'admin'} | {kind: 'node'; sender: number | undefined}

/** Why a control is refused, or undefined when it is accepted. */
export function controlRefusal(op: ControlOp, channel: ControlChannel, leader: number): string | undefined {
  if (channel.kind === 'admin') return op === 'takeover' ? 'takeover phases come from the leader, not from an operator' : undefined
  const sender = channel.sender
  if (sender === undefined) return 'node-to-node control without a sender'
  if (op === 'takeover') return undefined
  if (op === 'ban') return sender === leader ? undefined : `ban refused: node ${sender} is not the leader (the leader is ${leader < 0 ? 'unknown' : leader})`
  return `"${op}" is an operator control; node ${sender} may not send it`
}
