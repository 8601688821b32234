// The pure parts of event handling: event checks, health rules, the NFS callout op sequence,
// the environment, script ordering and the status rendering.
import {ctdbBase, eventEnv} from '../../src/events/env.js'
import {HealthTracker} from '../../src/events/health.js'
import {checkEvent, eventStatus} from '../../src/events/model.js'
import {calloutSteps, parseRegistered, sharesToCheck} from '../../src/events/nfs-callout.js'
import {renderEvent, renderRun} from '../../src/events/render.js'
import {compareNames, isEnabledMode, isScriptFile} from '../../src/events/scripts.js'
import {parseControlReply, parseControlRequest} from '../../src/protocol/messages.js'

describe('checkEvent', () => {
  it('accepts CTDB events with their argument counts', () => {
    expect(checkEvent('monitor', [])).toBeUndefined()
    expect(checkEvent('takeip', ['eth0', '10.0.0.1', '24'])).toBeUndefined()
    expect(checkEvent('updateip', ['eth0', 'eth1', '10.0.0.1', '24'])).toBeUndefined()
  })
  it('refuses unknown events and wrong argument counts', () => {
    expect(checkEvent('reload', [])).toMatch(/unknown event "reload"/)
    expect(checkEvent('takeip', ['eth0'])).toBe('event takeip takes 3 arguments, got 1')
    expect(checkEvent('monitor', ['x'])).toBe('event monitor takes 0 arguments, got 1')
  })
})

describe('HealthTracker', () => {
  it('is healthy with nothing to monitor', () => {
    expect(new HealthTracker([]).healthy()).toBe(true)
  })
  it('is unhealthy until the first pass, and a never-healthy unit fails at once without counting', () => {
    const h = new HealthTracker([{name: 'svc', failures: 3}])
    expect(h.healthy()).toBe(false)
    h.record('svc', 'failed')
    expect(h.healthy()).toBe(false)
    h.record('svc', 'ok')
    expect(h.healthy()).toBe(true)
  })
  it('counts consecutive failures after it was healthy; one pass clears them', () => {
    const h = new HealthTracker([{name: 'svc', failures: 3}])
    h.record('svc', 'ok')
    h.record('svc', 'failed')
    h.record('svc', 'failed')
    expect(h.healthy()).toBe(true)
    h.record('svc', 'failed')
    expect(h.healthy()).toBe(false)
    expect(h.unhealthyUnits()).toEqual(['svc'])
    h.record('svc', 'ok')
    expect(h.healthy()).toBe(true)
    h.record('svc', 'failed')
    h.record('svc', 'failed')
    expect(h.healthy()).toBe(true)
  })
  it('ignores cancelled monitors and needs every unit healthy', () => {
    const h = new HealthTracker([{name: 'a', failures: 1}, {name: 'b', failures: 1}])
    h.record('a', 'ok')
    h.record('b', 'cancelled')
    expect(h.healthy()).toBe(false)
    h.record('b', 'ok')
    expect(h.healthy()).toBe(true)
    h.record('a', 'failed')
    expect(h.unhealthyUnits()).toEqual(['a'])
  })
  it('keeps the history of kept units across a config change; new units start unhealthy', () => {
    const h = new HealthTracker([{name: 'a', failures: 1}])
    h.record('a', 'ok')
    h.setUnits([{name: 'a', failures: 2}, {name: 'b', failures: 1}])
    expect(h.unitHealthy('a')).toBe(true)
    expect(h.unhealthyUnits()).toEqual(['b'])
    h.setUnits([{name: 'a', failures: 2}])
    expect(h.healthy()).toBe(true)
  })
})

describe('NFS callout ops', () => {
  const kernel = parseRegistered('shutdown\nstartup\nstop\nstart\nmonitor-list-shares\nmonitor-post\n')
  it('registers the listed ops, or ALL for empty output', () => {
    expect([...kernel]).toEqual(['shutdown', 'startup', 'stop', 'start', 'monitor-list-shares', 'monitor-post'])
    expect([...parseRegistered('\n')]).toEqual(['ALL'])
  })
  it('runs 60.nfs sequences, skipping unregistered ops', () => {
    const all = parseRegistered('')
    expect(calloutSteps('monitor', [], all).map((s) => s.op)).toEqual(['monitor-pre', 'monitor-list-shares', 'monitor-post'])
    expect(calloutSteps('monitor', [], kernel).map((s) => s.op)).toEqual(['monitor-list-shares', 'monitor-post'])
    expect(calloutSteps('monitor', [], all, true).map((s) => s.op)).toEqual(['monitor-pre', 'monitor-post'])
    expect(calloutSteps('takeip', ['eth0', '10.0.0.5', '24'], all)).toEqual([{op: 'takeip', args: ['eth0', '10.0.0.5', '24']}])
    expect(calloutSteps('takeip', ['eth0', '10.0.0.5', '24'], kernel)).toEqual([])
    expect(calloutSteps('startup', [], kernel)).toEqual([{op: 'startup', args: []}])
    for (const e of ['init', 'setup', 'updateip', 'startrecovery', 'recovered', 'ipreallocated']) expect(calloutSteps(e, [], all)).toEqual([])
  })
  it('checks the listed share directories, skipping lines with %', () => {
    expect(sharesToCheck('/srv/a\n\n/srv/%u\n /srv/b \n')).toEqual(['/srv/a', '/srv/b'])
  })
})

describe('environment', () => {
  it('is clean, with CTDB variables; CTDB_BASE follows CTDB layout', () => {
    const env = eventEnv({cluster: 'c', nodeName: 'n1', pnn: 2, dataDir: '/var/lib/x', scriptDir: '/etc/ctdb/events/legacy'})
    expect(env).toMatchObject({CTDB_BASE: '/etc/ctdb', CTDB_SCRIPT_VARDIR: '/var/lib/x/scripts', CTDB_PNN: '2', CTDBCTL_NODE: 'n1'})
    expect(env.HOME).toBeUndefined()
    expect(ctdbBase('/srv/scripts')).toBe('/srv/scripts')
  })
})

describe('scripts', () => {
  it('matches NN.name.script only, sorts byte-wise, enabled = owner-executable', () => {
    expect(['10.interface.script', '00.ctdb.script', '1.bad.script', '10.x.sh', 'README'].filter(isScriptFile)).toEqual(['10.interface.script', '00.ctdb.script'])
    expect(['10.b', '10.B', '01.z', '10.a'].sort(compareNames)).toEqual(['01.z', '10.B', '10.a', '10.b'])
    expect(isEnabledMode(0o744)).toBe(true)
    expect(isEnabledMode(0o655)).toBe(false)
  })
})

describe('rendering', () => {
  const t = Date.UTC(2026, 10, 24, 9, 5, 7)
  it('prints as ctdb event status', () => {
    expect(renderRun({name: '10.interface', status: 'OK', startedAt: t, durationMs: 12.5})).toBe('10.interface         OK         0.013 Tue Nov 24 09:05:07 2026\n')
    expect(renderRun({name: '05.system', status: 'DISABLED'})).toBe('05.system            DISABLED\n')
    expect(renderRun({name: '20.x', status: 'ERROR', code: 1, startedAt: t, durationMs: 1000, output: 'bad\nworse\n'})).toBe(
      '20.x                 ERROR      1.000 Tue Nov 24 09:05:07 2026\n  OUTPUT: bad\n  OUTPUT: worse\n',
    )
    expect(renderRun({name: '30.hang', status: 'TIMEDOUT', startedAt: t})).toBe('30.hang              TIMEDOUT   Tue Nov 24 09:05:07 2026\n')
    expect(renderRun({name: '40.x', status: 'CANNOT RUN', error: 'EACCES: permission denied'})).toBe('40.x                 CANNOT RUN (EACCES: permission denied)\n')
    expect(renderEvent(undefined, 'takeip')).toBe('Event takeip has never run\n')
  })
  it('the first failure decides the event status', () => {
    expect(eventStatus([{name: 'a', status: 'OK'}, {name: 'b', status: 'DISABLED'}])).toBe('OK')
    expect(eventStatus([{name: 'a', status: 'TIMEDOUT'}])).toBe('TIMEDOUT')
    expect(eventStatus([{name: 'a', status: 'CANNOT RUN'}])).toBe('ERROR')
  })
})

describe('event controls on the wire', () => {
  const req = (o: unknown) => parseControlRequest(new TextEncoder().encode(JSON.stringify(o)))
  it('parses well-formed event controls', () => {
    expect(req({v: 1, op: 'event-status'})).toEqual({v: 1, op: 'event-status'})
    expect(req({v: 1, op: 'event-status', event: 'takeip'})).toEqual({v: 1, op: 'event-status', event: 'takeip'})
    expect(req({v: 1, op: 'event-run', event: 'takeip', args: ['eth0', '10.0.0.1', '24']})).toEqual({v: 1, op: 'event-run', event: 'takeip', args: ['eth0', '10.0.0.1', '24']})
    expect(req({v: 1, op: 'event-script', script: '10.x', enable: false})).toEqual({v: 1, op: 'event-script', script: '10.x', enable: false})
  })
  it('reports malformed ones, never throws', () => {
    expect(req({v: 1, op: 'event-run', event: 'monitor'})).toBe('event-run needs an event and a list of arguments')
    expect(req({v: 1, op: 'event-run', event: 'takeip', args: [1, 2, 3]})).toBe('event-run needs an event and a list of arguments')
    expect(req({v: 1, op: 'event-script', script: '10.x'})).toBe('event-script needs a script name and enable true or false')
    expect(req({v: 1, op: 'event-status', event: 7})).toBe('event-status needs an event name')
  })
  it('rejects replies with malformed event results', () => {
    const reply = (events: unknown) => parseControlReply(new TextEncoder().encode(JSON.stringify({ok: true, changed: false, state: {}, events})))
    expect(reply([{event: 'monitor', status: 'OK', results: [{name: 'a', status: 'OK'}]}])).toBeDefined()
    expect(reply([{event: 'monitor', status: 'OK', results: [{name: 5, status: 'OK'}]}])).toBeUndefined()
    expect(reply('x')).toBeUndefined()
  })
})
