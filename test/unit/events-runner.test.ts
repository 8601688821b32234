// Running real programs: argv without a shell, timeouts that kill the whole process group,
// capped output, clean environment; events over a script directory; services and the NFS
// callout interface (our example callout and, when installed, CTDB's own kernel callout).
import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import type {ServiceConfig} from '../../src/config/model.js'
import {eventEnv} from '../../src/events/env.js'
import {runEvent} from '../../src/events/executor.js'
import {OUTPUT_CAP, runProgram} from '../../src/events/runner.js'
import {listScripts, setScriptEnabled} from '../../src/events/scripts.js'
import {ServiceUnit} from '../../src/events/services.js'

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-events-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const env = eventEnv({cluster: 'c', nodeName: 'n0', pnn: 0, dataDir: dir})
const CALLOUT = resolve('examples/nfs-callout/nfs-callout')

function script(scriptDir: string, name: string, body: string, mode = 0o755): string {
  const p = join(scriptDir, name)
  writeFileSync(p, `#!/bin/sh\n${body}\n`)
  chmodSync(p, mode)
  return p
}

/** Running (a killed process may stay a zombie until its new parent reaps it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

describe('runProgram', () => {
  it('passes argv unchanged (no shell) and captures stdout and stderr', async () => {
    const r = await runProgram('/bin/echo', ['a b', '$HOME', ';', 'rm -rf /'], {name: 'echo', env, timeoutMs: 5000})
    expect(r).toMatchObject({status: 'OK', code: 0, output: 'a b $HOME ; rm -rf /\n'})
    const e = await runProgram('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3'], {name: 'sh', env, timeoutMs: 5000})
    expect(e.status).toBe('ERROR')
    expect(e.code).toBe(3)
    expect(e.output).toContain('out\n')
    expect(e.output).toContain('err\n')
  })

  it('runs with a clean environment', async () => {
    process.env.CTDBCTL_SECRET_TEST = 'leak'
    const r = await runProgram('/usr/bin/env', [], {name: 'env', env, timeoutMs: 5000})
    delete process.env.CTDBCTL_SECRET_TEST
    expect(r.output).toContain('CTDB_PNN=0\n')
    expect(r.output).not.toContain('CTDBCTL_SECRET_TEST')
  })

  it('kills the whole process group at the timeout', async () => {
    const pidFile = join(dir, 'grandchild.pid')
    const t0 = Date.now()
    const r = await runProgram('/bin/sh', ['-c', `sleep 60 & echo $! > ${pidFile}; wait`], {name: 'hang', env, timeoutMs: 300})
    expect(r.status).toBe('TIMEDOUT')
    expect(Date.now() - t0).toBeLessThan(5000)
    const grandchild = Number(readFileSync(pidFile, 'utf8'))
    // The kill is asynchronous; the grandchild is gone almost at once.
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20))
    expect(alive(grandchild)).toBe(false)
  })

  it('reports a program that cannot run', async () => {
    const r = await runProgram(join(dir, 'missing'), [], {name: 'missing', env, timeoutMs: 1000})
    expect(r.status).toBe('CANNOT RUN')
    expect(r.error).toMatch(/ENOENT/)
  })

  it('caps the output', async () => {
    const r = await runProgram('/usr/bin/head', ['-c', String(OUTPUT_CAP * 2), '/dev/zero'], {name: 'big', env, timeoutMs: 5000})
    expect(r.status).toBe('OK')
    expect(r.output!.length).toBeLessThan(OUTPUT_CAP + 100)
    expect(r.output).toMatch(/\[output truncated\]$/)
  })

  it('is cancelled by its signal', async () => {
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 100)
    const r = await runProgram('/bin/sleep', ['30'], {name: 'sleep', env, timeoutMs: 10_000, signal: ac.signal})
    expect(r.status).toBe('CANCELLED')
  })
})

describe('runEvent over a script directory', () => {
  const scripts = mkdtempSync(join(dir, 'scripts-'))
  const log = join(dir, 'order.log')
  beforeAll(() => {
    script(scripts, '20.second.script', `echo "20 $*" >> ${log}`)
    script(scripts, '10.first.script', `echo "10 $*" >> ${log}`)
    script(scripts, '15.off.script', `echo "15 $*" >> ${log}`, 0o644)
    writeFileSync(join(scripts, 'README'), 'not a script')
    script(scripts, '30.fails.script', `[ "$1" = monitor ] && { echo "broken"; exit 2; }; echo "30 $*" >> ${log}`)
    script(scripts, '40.after.script', `echo "40 $*" >> ${log}`)
  })

  it('runs enabled scripts in order with the event and its arguments; disabled ones are reported, not run', async () => {
    rmSync(log, {force: true})
    const r = await runEvent({event: 'takeip', args: ['eth0', '10.0.0.5', '24'], scriptDir: scripts, services: [], env, timeoutMs: 10_000})
    expect(r.status).toBe('OK')
    expect(r.results.map((x) => [x.name, x.status])).toEqual([['10.first', 'OK'], ['15.off', 'DISABLED'], ['20.second', 'OK'], ['30.fails', 'OK'], ['40.after', 'OK']])
    expect(readFileSync(log, 'utf8')).toBe('10 takeip eth0 10.0.0.5 24\n20 takeip eth0 10.0.0.5 24\n30 takeip eth0 10.0.0.5 24\n40 takeip eth0 10.0.0.5 24\n')
  })

  it('stops at the first failure, with its output', async () => {
    rmSync(log, {force: true})
    const r = await runEvent({event: 'monitor', args: [], scriptDir: scripts, services: [], env, timeoutMs: 10_000})
    expect(r.status).toBe('ERROR')
    expect(r.results.at(-1)).toMatchObject({name: '30.fails', status: 'ERROR', code: 2, output: 'broken\n'})
    expect(r.results.map((x) => x.name)).not.toContain('40.after')
  })

  it('has one deadline for the whole event', async () => {
    const slow = mkdtempSync(join(dir, 'slow-'))
    script(slow, '10.a.script', 'sleep 0.4')
    script(slow, '20.b.script', 'sleep 0.4')
    const r = await runEvent({event: 'startup', args: [], scriptDir: slow, services: [], env, timeoutMs: 600})
    expect(r.status).toBe('TIMEDOUT')
    expect(r.results.map((x) => x.status)).toEqual(['OK', 'TIMEDOUT'])
  })

  it('enables and disables scripts by mode, and lists them', () => {
    expect(setScriptEnabled(scripts, '15.off', true)).toBe(true)
    expect(statSync(join(scripts, '15.off.script')).mode & 0o777).toBe(0o755)
    expect(setScriptEnabled(scripts, '15.off', true)).toBe(false)
    expect(listScripts(scripts).find((s) => s.name === '15.off')?.enabled).toBe(true)
    expect(setScriptEnabled(scripts, '15.off', false)).toBe(true)
    expect(listScripts(scripts).find((s) => s.name === '15.off')?.enabled).toBe(false)
    expect(() => setScriptEnabled(scripts, '99.none', true)).toThrow(/Script 99.none does not exist/)
    expect(() => setScriptEnabled(scripts, '../x', true)).toThrow(/not a script name/)
    expect(listScripts(join(dir, 'no-such-dir'))).toEqual([])
  })
})

describe('services', () => {
  const unit = (config: ServiceConfig, extra: Record<string, string> = {}) => new ServiceUnit(config, {env: () => ({...env, ...extra}), stateDir: join(dir, 'svc', config.name)})

  it('runs start on startup, stop on shutdown and the monitor command', async () => {
    const log = join(dir, 'svc.log')
    const u = unit({name: 'web', start: ['/bin/sh', '-c', `echo start >> ${log}`], stop: ['/bin/sh', '-c', `echo stop >> ${log}`], monitor: {command: ['/bin/false'], intervalMs: 1000, timeoutMs: 1000, failures: 1}})
    expect((await u.event('startup', [], 5000))?.status).toBe('OK')
    expect(await u.event('takeip', ['e', '1.2.3.4', '24'], 5000)).toBeUndefined()
    expect((await u.event('shutdown', [], 5000))?.status).toBe('OK')
    expect(readFileSync(log, 'utf8')).toBe('start\nstop\n')
    expect(await u.monitor(5000)).toMatchObject({name: 'service:web', status: 'ERROR', code: 1})
  })

  it('drives the example NFS callout through 60.nfs sequences', async () => {
    const log = join(dir, 'callout.log')
    const shares = join(dir, 'shares')
    writeFileSync(shares, `${dir}\n`)
    const u = unit({name: 'nfs', nfsCallout: CALLOUT}, {NFS_CALLOUT_LOG: log, NFS_CALLOUT_SHARES: shares, NFS_CALLOUT_SYSTEMCTL: '/bin/true'})
    expect((await u.event('startup', [], 5000))?.status).toBe('OK')
    expect((await u.monitor(5000)).status).toBe('OK')
    expect((await u.event('takeip', ['eth0', '10.0.0.5', '24'], 5000))?.status).toBe('OK')
    expect((await u.event('releaseip', ['eth0', '10.0.0.5', '24'], 5000))?.status).toBe('OK')
    expect(await u.event('ipreallocated', [], 5000)).toBeUndefined()
    expect((await u.event('shutdown', [], 5000))?.status).toBe('OK')
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'register', 'startup', 'monitor-pre', 'monitor-list-shares', 'monitor-post', 'takeip eth0 10.0.0.5 24', 'releaseip eth0 10.0.0.5 24', 'shutdown',
    ])
    writeFileSync(shares, `${join(dir, 'gone')}\n`)
    expect(await u.monitor(5000)).toMatchObject({status: 'ERROR', output: `ERROR: nfs directory "${join(dir, 'gone')}" not available\n`})
  })

  it('fails the monitor with the callout output when an op fails', async () => {
    const u = unit({name: 'nfs', nfsCallout: CALLOUT}, {NFS_CALLOUT_SYSTEMCTL: '/bin/false'})
    const r = await u.monitor(5000)
    expect(r.status).toBe('ERROR')
    expect(r.output).toBe('[monitor-pre] ERROR: nfs-server is not running\n')
  })

  const kernelCallout = '/etc/ctdb/nfs-linux-kernel-callout'
  it('speaks to CTDB\'s own nfs-linux-kernel-callout (register and the monitor sequence it registered)', async () => {
    if (!existsSync(kernelCallout)) throw new Error(`${kernelCallout} is missing: install the Debian ctdb package`)
    const fakeBin = mkdtempSync(join(dir, 'bin-'))
    // Its monitor-list-shares reads exportfs; a fake one lists one existing and one missing export.
    script(fakeBin, 'exportfs', `echo "${dir}   <world>(rw)"; echo "/nonexistent/export <world>(rw)"`)
    const u = unit({name: 'nfs', nfsCallout: kernelCallout}, {PATH: `${fakeBin}:${env.PATH}`, CTDB_NFS_EXPORTS_FILE: join(dir, 'etab')})
    const r = await u.monitor(10_000)
    expect(r).toMatchObject({status: 'ERROR', output: 'ERROR: nfs directory "/nonexistent/export" not available\n'})
  })
})

test('a callout that cannot run fails the event with the register error', async () => {
  const u = new ServiceUnit({name: 'nfs', nfsCallout: join(dir, 'no-callout')}, {env: () => env, stateDir: join(dir, 'svc', 'none')})
  const r = await u.monitor(2000)
  expect(r.status).toBe('CANNOT RUN')
  expect(r.output).toMatch(/^\[register\] ENOENT/)
})
