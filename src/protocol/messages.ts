// Messages exchanged over NATS, with parsers that never throw: a malformed message from the
// network is reported as undefined and dropped by the receiver, never crashes a daemon.
import type {ClusterState, NodeFlag} from '../cluster/state.js'
import type {EventResult} from '../events/model.js'

export const PROTOCOL_VERSION = 1

/** Flags a node reports about itself (DISCONNECTED and DELETED are decided by observers). */
export type OwnFlag = Extract<NodeFlag, 'UNHEALTHY' | 'DISABLED' | 'BANNED' | 'STOPPED'>
const OWN_FLAGS: readonly string[] = ['UNHEALTHY', 'DISABLED', 'BANNED', 'STOPPED']

export interface Heartbeat {
  v: 1
  pnn: number
  /** Random id of this daemon run: a restart is a new incarnation. */
  incarnation: string
  seq: number
  flags: OwnFlag[]
  /** The sender holds the cluster lock (it is the leader). */
  holdsLock: boolean
  /** Who the sender believes leads, -1 when nobody. */
  leader: number
  generation: number
  uptimeMs: number
  /** Revision of the applied config this node runs (0 = none yet). */
  configRevision: number
  /** The node's observed state matches that revision. */
  converged: boolean
  /** Why the node refused the newest revision, if it did. */
  configError?: string
  /** The revision it refused. */
  rejectedRevision?: number
  /** Public addresses the node really holds. */
  held: string[]
  /** Link state of the node's public interfaces. */
  interfaces: Record<string, 'up' | 'down'>
}

export interface Departure {
  v: 1
  pnn: number
  incarnation: string
}

export const CONTROL_OPS = ['status', 'ban', 'unban', 'disable', 'enable', 'stop', 'continue', 'takeover', 'moveip', 'ipreallocate', 'event-status', 'event-run', 'event-script'] as const
export type ControlOp = (typeof CONTROL_OPS)[number]
/** Ops an operator sends; the others are sent by the leader to nodes. */
export type AdminOp = Exclude<ControlOp, 'takeover' | EventOp>
export type EventOp = 'event-status' | 'event-run' | 'event-script'

export type TakeoverPhase = 'release' | 'take' | 'ipreallocated'

export interface ControlRequest {
  v: 1
  op: ControlOp
  /** ban only. */
  seconds?: number
  /** takeover: the run and its phase; release and take carry the addresses the node holds afterwards. */
  run?: number
  phase?: TakeoverPhase
  addresses?: string[]
  /** takeover: the config revision the leader planned with. */
  configRevision?: number
  /** moveip: the address and the node it goes to. */
  address?: string
  pnn?: number
  /** event-status, event-run: the event and (run) its arguments. */
  event?: string
  args?: string[]
  /** event-script: the script name (NN.name) and whether to enable or disable it. */
  script?: string
  enable?: boolean
}

export type ControlReply =
  | {ok: true; changed: boolean; message?: string; state: ClusterState; events?: EventResult[]}
  | {ok: false; error: string}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encode(message: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(message))
}

function decodeObject(data: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(decoder.decode(data)) as unknown
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

const isPnn = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0
const isLinkMap = (v: unknown): v is Record<string, 'up' | 'down'> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((s) => s === 'up' || s === 'down')

export function parseHeartbeat(data: Uint8Array): Heartbeat | undefined {
  const m = decodeObject(data)
  if (!m || m.v !== PROTOCOL_VERSION || !isPnn(m.pnn) || typeof m.incarnation !== 'string' || !isCount(m.seq)) return undefined
  if (!Array.isArray(m.flags) || !m.flags.every((f) => OWN_FLAGS.includes(f as string))) return undefined
  if (typeof m.holdsLock !== 'boolean' || !(m.leader === -1 || isPnn(m.leader)) || !isCount(m.generation) || !isCount(m.uptimeMs)) return undefined
  if (!Array.isArray(m.held) || !m.held.every((a) => typeof a === 'string') || !isLinkMap(m.interfaces)) return undefined
  if (!isCount(m.configRevision) || typeof m.converged !== 'boolean' || !(m.configError === undefined || typeof m.configError === 'string') || !(m.rejectedRevision === undefined || isCount(m.rejectedRevision))) return undefined
  return {
    v: 1, pnn: m.pnn, incarnation: m.incarnation, seq: m.seq, flags: m.flags as OwnFlag[], holdsLock: m.holdsLock, leader: m.leader as number,
    generation: m.generation, uptimeMs: m.uptimeMs, configRevision: m.configRevision, converged: m.converged, ...(m.configError === undefined ? {} : {configError: m.configError}),
    ...(m.rejectedRevision === undefined ? {} : {rejectedRevision: m.rejectedRevision}),
    held: m.held as string[],
    interfaces: m.interfaces as Record<string, 'up' | 'down'>,
  }
}

export function parseDeparture(data: Uint8Array): Departure | undefined {
  const m = decodeObject(data)
  if (!m || m.v !== PROTOCOL_VERSION || !isPnn(m.pnn) || typeof m.incarnation !== 'string') return undefined
  return {v: 1, pnn: m.pnn, incarnation: m.incarnation}
}

export function parseControlRequest(data: Uint8Array): ControlRequest | string {
  const m = decodeObject(data)
  if (!m || m.v !== PROTOCOL_VERSION) return 'malformed control request'
  if (!CONTROL_OPS.includes(m.op as ControlOp)) return `unknown control ${JSON.stringify(m.op)}`
  if (m.op === 'ban' && !(Number.isInteger(m.seconds) && (m.seconds as number) > 0 && (m.seconds as number) <= 31_536_000)) return 'ban needs a whole number of seconds between 1 and 31536000'
  if (m.op === 'takeover') {
    if (!isCount(m.run) || !['release', 'take', 'ipreallocated'].includes(m.phase as string)) return 'takeover needs a run number and a phase'
    if (m.phase !== 'ipreallocated' && !(Array.isArray(m.addresses) && m.addresses.every((a) => typeof a === 'string'))) return 'takeover release/take needs a list of addresses'
    return {v: 1, op: 'takeover', run: m.run, phase: m.phase as TakeoverPhase, ...(m.addresses ? {addresses: m.addresses as string[]} : {}), ...(isCount(m.configRevision) ? {configRevision: m.configRevision} : {})}
  }
  if (m.op === 'moveip') {
    if (typeof m.address !== 'string' || !isPnn(m.pnn)) return 'moveip needs an address and a pnn'
    return {v: 1, op: 'moveip', address: m.address, pnn: m.pnn}
  }
  if (m.op === 'event-status') {
    if (!(m.event === undefined || typeof m.event === 'string')) return 'event-status needs an event name'
    return {v: 1, op: 'event-status', ...(m.event === undefined ? {} : {event: m.event})}
  }
  if (m.op === 'event-run') {
    if (typeof m.event !== 'string' || !(Array.isArray(m.args) && m.args.every((a) => typeof a === 'string'))) return 'event-run needs an event and a list of arguments'
    return {v: 1, op: 'event-run', event: m.event, args: m.args as string[]}
  }
  if (m.op === 'event-script') {
    if (typeof m.script !== 'string' || typeof m.enable !== 'boolean') return 'event-script needs a script name and enable true or false'
    return {v: 1, op: 'event-script', script: m.script, enable: m.enable}
  }
  return {v: 1, op: m.op as ControlOp, ...(m.op === 'ban' ? {seconds: m.seconds as number} : {})}
}

function isEventResults(v: unknown): v is EventResult[] {
  const isObject = (o: unknown): o is Record<string, unknown> => o !== null && typeof o === 'object' && !Array.isArray(o)
  return Array.isArray(v) && v.every((e) => isObject(e) && typeof e.event === 'string' && typeof e.status === 'string' && Array.isArray(e.results) &&
    e.results.every((r) => isObject(r) && typeof r.name === 'string' && typeof r.status === 'string' && (r.output === undefined || typeof r.output === 'string')))
}

export function parseControlReply(data: Uint8Array): ControlReply | undefined {
  const m = decodeObject(data)
  if (!m) return undefined
  if (m.ok === false && typeof m.error === 'string') return {ok: false, error: m.error}
  if (m.ok === true && typeof m.changed === 'boolean' && m.state && typeof m.state === 'object' && (m.events === undefined || isEventResults(m.events))) return m as unknown as ControlReply
  return undefined
}
