// The daemon's event service on its own (real scripts, no cluster): health from monitors, a new
// event cancelling a running monitor, events refused after shutdown, the example event script.
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {pino} from 'pino'
import {loadConfigText} from '../../src/config/index.js'
import type {ClusterConfig} from '../../src/config/model.js'
import {EventService} from '../../src/daemon/event-service.js'
import {eventEnv} from '../../src/events/env.js'
import {runEvent} from '../../src/events/executor.js'
import {waitFor} from '../helpers/wait.js'

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-event-service-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function config(extra: string): ClusterConfig {
  const yaml = `apiVersion: ctdbctl/v1\nkind: Cluster\nmetadata: {name: t}\nspec:\n  nats: {servers: [nats://127.0.0.1:4222]}\n  nodes:\n    - {pnn: 0, name: n0, address: 127.0.0.1}\n${extra}`
  const r = loadConfigText(yaml, 'test.yaml', {localChecks: false})
  if (!r.config) throw new Error(JSON.stringify(r.problems))
  return r.config
}

function service(cfg: ClusterConfig, flags: boolean[], monitors: [string, boolean][] = []): EventService {
  return new EventService({config: cfg, pnn: 0, nodeName: 'n0', dataDir: join(dir, 'data'), logger: pino({level: 'silent'}), setUnhealthy: (u) => flags.push(u), onMonitorResult: (unit, ok) => monitors.push([unit, ok]), isActive: () => true})
}

test('with nothing to monitor the node is healthy as soon as it starts', async () => {
  const flags: boolean[] = []
  const s = service(config(''), flags)
  s.startup()
  expect(flags).toEqual([false])
  await s.shutdown()
})

test('unhealthy until the first good monitor; a new event cancels a running monitor without changing health', async () => {
  const scripts = join(dir, 'events')
  mkdirSync(scripts)
  const log = join(dir, 'log')
  writeFileSync(join(scripts, '10.slow.script'), `#!/bin/sh\n[ "$1" = monitor ] && [ -e ${dir}/slow ] && { echo hanging >> ${log}; exec sleep 20; }\necho "$*" >> ${log}\n`)
  chmodSync(join(scripts, '10.slow.script'), 0o755)
  const flags: boolean[] = []
  const monitors: [string, boolean][] = []
  const s = service(config(`  eventScripts: ${scripts}\n  tunables: {monitorInterval: 1s}\n`), flags, monitors)
  s.startup()
  expect(flags).toEqual([true])
  await waitFor('healthy after the first monitor', () => (flags.at(-1) === false ? true : undefined), 10_000)
  expect(monitors[0]?.[1]).toBe(true) // the metrics hook saw the passing monitor

  writeFileSync(join(dir, 'slow'), '')
  await waitFor('a monitor hanging', () => (readFileSync(log, 'utf8').includes('hanging') ? true : undefined), 5000)
  const t0 = Date.now()
  const r = await s.run('takeip', ['eth0', '10.0.0.1', '24'])
  expect(r.status).toBe('OK')
  expect(Date.now() - t0).toBeLessThan(5000) // not behind the 20 s sleep (the event timeout is 30 s)
  expect(s.status('monitor')?.status).toBe('OK') // the cancelled monitor is not recorded
  expect(readFileSync(log, 'utf8')).toContain('takeip eth0 10.0.0.1 24\n')
  expect(flags.at(-1)).toBe(false) // the cancelled monitor changed nothing
  expect(monitors.every(([, ok]) => ok)).toBe(true) // and was not reported as a result
  rmSync(join(dir, 'slow'))
  await s.shutdown()
  expect(readFileSync(log, 'utf8').trim().split('\n').at(-1)).toBe('shutdown')
  expect((await s.run('takeip', ['eth0', '10.0.0.2', '24'])).status).toBe('CANCELLED')
  expect(readFileSync(log, 'utf8')).not.toContain('10.0.0.2')
})

test('the example event script: monitor fails while its "down" file exists', async () => {
  const env = eventEnv({cluster: 't', nodeName: 'n0', pnn: 0, dataDir: join(dir, 'ex')})
  const scriptDir = resolve('examples/events')
  expect((await runEvent({event: 'startup', args: [], scriptDir, services: [], env, timeoutMs: 5000})).status).toBe('OK')
  expect((await runEvent({event: 'monitor', args: [], scriptDir, services: [], env, timeoutMs: 5000})).status).toBe('OK')
  writeFileSync(join(dir, 'ex', 'scripts', 'example', 'down'), '')
  const r = await runEvent({event: 'monitor', args: [], scriptDir, services: [], env, timeoutMs: 5000})
  expect(r.status).toBe('ERROR')
  expect(r.results[0].output).toContain('down exists')
  const take = await runEvent({event: 'takeip', args: ['eth1', '192.0.2.1', '24'], scriptDir, services: [], env, timeoutMs: 5000})
  expect(take.results[0].output).toBe('now serving 192.0.2.1/24 on eth1\n')
})
