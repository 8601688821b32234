// One event: the enabled scripts in order, then the services, under one deadline for the whole
// event (as ctdb-eventd); the first failure stops the event.
import {eventStatus, failed, type EventName, type EventResult, type RunResult} from './model.js'
import {runProgram} from './runner.js'
import {listScripts} from './scripts.js'
import type {ServiceUnit} from './services.js'

export interface EventInput {
  event: EventName
  args: string[]
  scriptDir?: string
  services: readonly ServiceUnit[]
  env: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal
}

export async function runEvent(input: EventInput): Promise<EventResult> {
  const startedAt = Date.now()
  const t0 = performance.now()
  const results: RunResult[] = []
  const left = () => input.timeoutMs - (performance.now() - t0)
  const opts = (name: string) => ({name, env: input.env, timeoutMs: Math.max(1, left()), ...(input.signal ? {signal: input.signal} : {})})
  const done = (): EventResult => ({event: input.event, args: input.args, status: eventStatus(results), startedAt, durationMs: Math.round(performance.now() - t0), results})
  let scripts
  try {
    scripts = listScripts(input.scriptDir)
  } catch (e) {
    results.push({name: input.scriptDir!, status: 'CANNOT RUN', error: `cannot read the event script directory: ${(e as Error).message}`})
    return done()
  }
  for (const s of scripts) {
    if (!s.enabled) {
      results.push({name: s.name, status: 'DISABLED'})
      continue
    }
    const r = await runProgram(s.path, [input.event, ...input.args], opts(s.name))
    results.push(r)
    if (failed(r)) return done()
  }
  for (const unit of input.services) {
    const r = await unit.event(input.event, input.args, Math.max(1, left()), input.signal)
    if (!r) continue
    results.push(r)
    if (failed(r)) return done()
  }
  return done()
}
