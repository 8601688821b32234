// CTDB's events and the results kept for `event status` (core-spec §6).

export const EVENTS = ['init', 'setup', 'startup', 'monitor', 'takeip', 'releaseip', 'updateip', 'startipreallocate', 'ipreallocated', 'startrecovery', 'recovered', 'shutdown'] as const
export type EventName = (typeof EVENTS)[number]

/** Number of arguments each event takes; CTDB refuses any other count. */
const ARG_COUNT: Record<EventName, number> = {
  init: 0, setup: 0, startup: 0, monitor: 0, startipreallocate: 0, ipreallocated: 0, startrecovery: 0, recovered: 0, shutdown: 0,
  takeip: 3, releaseip: 3, updateip: 4,
}

export function isEventName(v: unknown): v is EventName {
  return typeof v === 'string' && (EVENTS as readonly string[]).includes(v)
}

/** Why an event request is refused, or undefined when it is well formed. */
export function checkEvent(event: string, args: readonly string[]): string | undefined {
  if (!isEventName(event)) return `unknown event "${event}"; events are ${EVENTS.join(', ')}`
  const want = ARG_COUNT[event]
  if (args.length !== want) return `event ${event} takes ${want} argument${want === 1 ? '' : 's'}, got ${args.length}`
  return undefined
}

/** As `ctdb event status`: OK, ERROR (non-zero exit), TIMEDOUT, DISABLED, CANNOT RUN, CANCELLED. */
export type RunStatus = 'OK' | 'ERROR' | 'TIMEDOUT' | 'DISABLED' | 'CANNOT RUN' | 'CANCELLED'

export interface RunResult {
  /** Script name (`10.interface`) or `service:NAME`. */
  name: string
  status: RunStatus
  /** Exit code for ERROR, errno text for CANNOT RUN. */
  code?: number
  error?: string
  /** Epoch ms. */
  startedAt?: number
  durationMs?: number
  /** stdout and stderr interleaved, capped. */
  output?: string
}

export interface EventResult {
  event: EventName
  args: string[]
  /** OK when every enabled script and service passed. */
  status: 'OK' | 'ERROR' | 'TIMEDOUT' | 'CANCELLED'
  startedAt: number
  durationMs: number
  results: RunResult[]
}

/** The overall status of an event from its runs: the first failure decides. */
export function eventStatus(results: readonly RunResult[]): EventResult['status'] {
  for (const r of results) {
    if (r.status === 'TIMEDOUT') return 'TIMEDOUT'
    if (r.status === 'CANCELLED') return 'CANCELLED'
    if (r.status === 'ERROR' || r.status === 'CANNOT RUN') return 'ERROR'
  }
  return 'OK'
}

export function failed(r: RunResult): boolean {
  return r.status !== 'OK' && r.status !== 'DISABLED'
}
