// The permission table, the control policy and `ctdbctl creds generate` (files, modes, keeping
// seeds). The server enforcing them is tested in test/integration/auth.test.ts.
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {controlRefusal} from '../../src/daemon/control-policy.js'
import {controlSender, subjects} from '../../src/protocol/subjects.js'
import {createAccount} from '@nats-io/nkeys'
import {generateCreds} from '../../src/security/creds.js'
import {nodePermissions} from '../../src/security/permissions.js'
import {runCli} from '../helpers/cli.js'

/** NATS subject matching: `*` one token, `>` the rest. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.')
  const s = subject.split('.')
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false
  }
  return p.length === s.length
}

const may = (pnn: number, subject: string) => {
  const {publish} = nodePermissions('prod', pnn)
  return publish.allow.some((a) => matches(a, subject)) && !(publish.deny ?? []).some((d) => matches(d, subject))
}

describe('node permissions', () => {
  const s = subjects('prod')
  it.each([
    [s.heartbeat(1), true],
    [s.heartbeat(2), false],
    [s.departure(1), true],
    [s.departure(0), false],
    [s.control(0, 1), true],
    [s.control(0, 2), false],
    [s.admin(0), false],
    [s.admin(1), false],
    [s.configApplied, false],
    ['ctdbctl.prod.msg.smbd.3', true],
    ['ctdbctl.prod.db.locking.put', true],
    ['ctdbctl.other.heartbeat.1', false],
    ['$KV.prod_config.applied', false],
    ['$KV.prod_lock.leader', true],
    ['$KV.prod_tickles.10_0_0_1', true],
    ['$JS.API.STREAM.INFO.KV_prod_config', true],
    ['$JS.API.STREAM.DELETE.KV_prod_config', false],
    ['$JS.API.STREAM.PURGE.KV_prod_config', false],
    ['$JS.API.STREAM.CREATE.KV_prod_config', false],
    ['$JS.API.STREAM.CREATE.KV_prod_lock', true],
    ['$JS.API.STREAM.UPDATE.KV_prod_lock', true],
    ['$JS.API.STREAM.UPDATE.KV_prod_config', false],
    ['$JS.API.STREAM.DELETE.KV_prod_lock', false],
    ['$JS.API.STREAM.CREATE.ANYTHING', false],
  ])('node 1 publishing %s: %s', (subject, allowed) => {
    expect(may(1, subject)).toBe(allowed)
  })

  it('the sender of a node-to-node control is read from its subject', () => {
    expect(controlSender(s.control(3, 12))).toBe(12)
    expect(controlSender(s.admin(3))).toBeUndefined()
    expect(controlSender('ctdbctl.prod.control.3.from.x')).toBeUndefined()
  })
})

describe('control policy', () => {
  it.each([
    ['ban', {kind: 'admin'}, 0, undefined],
    ['takeover', {kind: 'admin'}, 0, 'takeover phases come from the leader, not from an operator'],
    ['takeover', {kind: 'node', sender: 2}, 0, undefined],
    ['ban', {kind: 'node', sender: 0}, 0, undefined],
    ['ban', {kind: 'node', sender: 2}, 0, 'ban refused: node 2 is not the leader (the leader is 0)'],
    ['ban', {kind: 'node', sender: 2}, -1, 'ban refused: node 2 is not the leader (the leader is unknown)'],
    ['unban', {kind: 'node', sender: 0}, 0, '"unban" is an operator control; node 0 may not send it'],
    ['moveip', {kind: 'node', sender: 0}, 0, '"moveip" is an operator control; node 0 may not send it'],
    ['takeover', {kind: 'node', sender: undefined}, 0, 'node-to-node control without a sender'],
  ] as const)('%s on %j with leader %d', (op, channel, leader, refusal) => {
    expect(controlRefusal(op, channel, leader)).toBe(refusal)
  })
})

describe('ctdbctl creds generate', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctdbctl-creds-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const seeds = () => Object.fromEntries(['operator', 'fs1', 'fs2', 'fs3'].map((n) => [n, readFileSync(join(dir, `${n}.nk`), 'utf8')]))

  it('writes a 0600 seed per node and for the operator, and the server include; a rerun keeps them, --force replaces them', async () => {
    const first = await runCli(['creds', 'generate', '--config', 'examples/three-node.yaml', '--out', dir])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout.match(/^created /gm)).toHaveLength(4)
    const before = seeds()
    for (const [name, seed] of Object.entries(before)) {
      expect(seed).toMatch(/^SU[A-Z2-7]{56}\n$/)
      expect(statSync(join(dir, `${name}.nk`)).mode & 0o777).toBe(0o600)
    }
    const conf = readFileSync(join(dir, 'nats-auth-fs-small.conf'), 'utf8')
    const keys = [...first.stdout.matchAll(/ (U[A-Z2-7]{55})$/gm)].map((m) => m[1])
    expect(keys).toHaveLength(4)
    for (const key of keys) expect(conf).toContain(`"nkey":"${key}"`)
    for (const seed of Object.values(before)) expect(conf).not.toContain(seed.trim())

    const again = await runCli(['creds', 'generate', '--config', 'examples/three-node.yaml', '--out', dir])
    expect(again.stdout.match(/^kept /gm)).toHaveLength(4)
    expect(seeds()).toEqual(before)
    expect(readFileSync(join(dir, 'nats-auth-fs-small.conf'), 'utf8')).toBe(conf)

    const forced = await runCli(['creds', 'generate', '--config', 'examples/three-node.yaml', '--out', dir, '--force'])
    expect(forced.stdout.match(/^created /gm)).toHaveLength(4)
    for (const [name, seed] of Object.entries(seeds())) expect(seed).not.toBe(before[name])
  }, 30_000)

  it('refuses to overwrite a file that is not a seed', async () => {
    writeFileSync(join(dir, 'fs2.nk'), 'my notes\n')
    const r = await runCli(['creds', 'generate', '--config', 'examples/three-node.yaml', '--out', dir])
    expect(r.code).toBe(1)
    expect(r.stderr.replace(/\s*›\s*/g, ' ')).toContain(`${join(dir, 'fs2.nk')} exists but holds no valid nkey user seed; remove it or use --force`)
    expect(readFileSync(join(dir, 'fs2.nk'), 'utf8')).toBe('my notes\n')
    expect(readdirSync(dir)).toEqual(['fs2.nk']) // nothing written
  }, 30_000)

  it('refuses a seed of another kind than a user, and a node named like the operator', () => {
    writeFileSync(join(dir, 'fs1.nk'), new TextDecoder().decode(createAccount().getSeed()))
    const nodes = [{pnn: 0, name: 'fs1', deleted: false}]
    expect(() => generateCreds({name: 'c', nodes}, dir)).toThrow(`${join(dir, 'fs1.nk')} exists but holds no valid nkey user seed`)
    expect(() => generateCreds({name: 'c', nodes: [{pnn: 0, name: 'operator', deleted: false}]}, dir)).toThrow('a node named "operator" would share the operator\'s seed file; rename the node')
    expect(readdirSync(dir)).toEqual(['fs1.nk'])
  })
})
