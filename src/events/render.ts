// `ctdbctl event status` output, as `ctdb event status` (core-spec §6.3): per script
// `%-20s %-10s` name and status, then the duration (`%.3f` s) and the start time for OK and
// ERROR, the start time for TIMEDOUT, the error for CANNOT RUN; a failure's output follows as
// `  OUTPUT: ` lines.
import type {EventResult, RunResult} from './model.js'

function ctime(ms: number): string {
  // ctime(3) without the newline: "Tue Nov 24 11:33:12 2026" (UTC; the daemon may be elsewhere).
  const d = new Date(ms)
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`
}

export function renderRun(r: RunResult): string {
  const head = `${r.name.padEnd(20)} ${r.status.padEnd(10)}`
  let line: string
  switch (r.status) {
    case 'OK':
    case 'ERROR':
      line = `${head} ${((r.durationMs ?? 0) / 1000).toFixed(3)} ${ctime(r.startedAt ?? 0)}`
      break
    case 'TIMEDOUT':
    case 'CANCELLED':
      line = `${head} ${ctime(r.startedAt ?? 0)}`
      break
    case 'CANNOT RUN':
      line = `${head} (${r.error ?? 'unknown error'})`
      break
    default:
      line = head.trimEnd()
  }
  const out = [line]
  if (r.status !== 'OK' && r.status !== 'DISABLED' && r.output) for (const l of r.output.trimEnd().split('\n')) out.push(`  OUTPUT: ${l}`)
  return out.join('\n') + '\n'
}

export function renderEvent(result: EventResult | undefined, event: string): string {
  if (!result) return `Event ${event} has never run\n`
  return result.results.map(renderRun).join('')
}
