// NATS authentication and authorisation (issue 12 item 1): a `dev up` cluster with nkey
// identities; the nats-servers enforce the generated permissions.
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {jetstream, jetstreamManager} from '@nats-io/jetstream'
import {Kvm} from '@nats-io/kv'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {natsAuthenticator} from '../../src/protocol/credentials.js'
import {encode, parseControlReply} from '../../src/protocol/messages.js'
import {subjects} from '../../src/protocol/subjects.js'
import {sandboxDown} from '../../src/dev/sandbox.js'
import {runCli} from '../helpers/cli.js'
import {startTestCluster, type TestCluster} from '../helpers/sandbox.js'
import {waitFor} from '../helpers/wait.js'

let tc: TestCluster
const open: NatsConnection[] = []
const seedOf = (identity: string) => join(tc.sandbox.credsDir!, `${identity}.nk`)
const url = () => tc.sandbox.nats[0].url
const s = () => subjects(tc.sandbox.cluster)

async function connectAs(identity: string): Promise<{nc: NatsConnection; errors: string[]}> {
  const nc = await connect({servers: [url()], authenticator: natsAuthenticator(seedOf(identity)), timeout: 5000})
  open.push(nc)
  const errors: string[] = []
  void (async () => {
    for await (const st of nc.status()) if (st.type === 'error') errors.push(st.error.message)
  })()
  return {nc, errors}
}

const cli = (args: string[], creds?: string) => runCli(args, {env: {CTDBCTL_CONFIG: tc.sandbox.configFile, ...(creds ? {CTDBCTL_NATS_CREDS: creds} : {})}})

beforeAll(async () => {
  tc = await startTestCluster(3, '', {auth: true})
}, 60_000)

afterAll(async () => {
  for (const nc of open) await nc.close().catch(() => undefined)
  await tc?.down()
}, 30_000)

test('an unauthenticated client is refused', async () => {
  await expect(connect({servers: [url()], timeout: 3000})).rejects.toThrow(/Authorization Violation/)
  const r = await cli(['status'])
  expect(r.code).toBe(1)
  expect(r.stderr).toMatch(/refused the connection.*Authorization Violation.*--nats-creds/)
})

test('a node identity cannot write the config, administer another node or beat as another node', async () => {
  const spy = await connectAs('operator')
  const seen: string[] = []
  spy.nc.subscribe(`ctdbctl.${tc.sandbox.cluster}.>`, {callback: (_e, m) => void seen.push(`${m.subject} ${m.string()}`)})
  await spy.nc.flush()

  const {nc, errors} = await connectAs('n0')
  const kv = await new Kvm(jetstream(nc)).open(`${tc.sandbox.cluster}_config`) // reading is allowed
  expect(await kv.get('applied')).not.toBeNull()
  await expect(kv.put('applied', 'evil')).rejects.toThrow(/Permissions Violation for Publish to "\$KV\.it_config\.applied"/)
  await expect((await jetstreamManager(nc)).streams.delete('KV_it_config')).rejects.toThrow(/Permissions Violation/)
  await expect(nc.request(s().admin(1), encode({v: 1, op: 'ban', seconds: 60}), {timeout: 2000})).rejects.toThrow(/Permissions Violation for Publish to "ctdbctl\.it\.admin\.1"/)
  nc.publish(s().heartbeat(1), encode({v: 1, pnn: 1, forged: true}))
  nc.publish(s().control(2, 1), encode({v: 1, op: 'ban', seconds: 60}))
  await waitFor('both refusals', () => (errors.some((e) => e.includes('heartbeat.1')) && errors.some((e) => e.includes('control.2.from.1')) ? true : undefined), 5000)
  await spy.nc.flush()
  // Nothing published as another node reached anyone.
  expect(seen.filter((x) => x.includes('forged') || x.startsWith(`${s().control(2, 1)} `) || x.startsWith(`${s().admin(1)} `))).toEqual([])
  // Node 1's own beats do arrive (the next one may still be due).
  await waitFor("node 1's own heartbeat", () => (seen.some((x) => x.startsWith(`${s().heartbeat(1)} `)) ? true : undefined), 10_000)

  // The CLI with a node's seed cannot apply a config either.
  const r = await cli(['apply', tc.sandbox.configFile, '--yes', '-m', 'as a node'], seedOf('n1'))
  expect(r.code).not.toBe(0)
  expect(r.stderr).toMatch(/Permissions Violation/)
  expect((await kv.get('applied'))!.string()).not.toContain('evil')
}, 30_000)

test('the operator applies and administers; the daemons, with node identities, take over addresses', async () => {
  const op = seedOf('operator')
  const seed = readFileSync(tc.sandbox.configFile, 'utf8')
  const file = join(tc.sandbox.dir, 'two.yaml')
  writeFileSync(file, seed.replace('  nodes:\n', '  publicAddresses:\n    - {address: 192.0.2.10/24, interfaces: [eth1]}\n    - {address: 192.0.2.11/24, interfaces: [eth1]}\n  nodes:\n'))
  const applied = await cli(['apply', file, '--yes', '-m', 'two addresses'], op)
  expect(applied.stderr).toBe('')
  expect(applied.stdout).toMatch(/Apply complete: revision \d+, 3\/3 nodes converged/)

  const status = JSON.parse((await cli(['status', '--json'], op)).stdout) as {leader: number; publicAddresses: {address: string; pnn: number}[]}
  expect(status.leader).toBeGreaterThanOrEqual(0)
  expect(status.publicAddresses.every((a) => a.pnn >= 0)).toBe(true)

  expect((await cli(['node', 'disable', '2'], op)).code).toBe(0)
  const after = JSON.parse((await cli(['status', '--json'], op)).stdout) as {nodes: {pnn: number; flags: string[]}[]}
  expect(after.nodes[2].flags).toContain('DISABLED')
  expect((await cli(['node', 'enable', '2'], op)).code).toBe(0)
}, 60_000)

test('natgw and lvs commands read the live cluster with --nats-creds, and are refused without it', async () => {
  const withGroup = join(tc.sandbox.dir, 'natgw.yaml')
  writeFileSync(withGroup, readFileSync(tc.sandbox.configFile, 'utf8') + '  natgw:\n    - {name: ng, publicAddress: 192.0.2.50/24, publicInterface: eth1, privateNetwork: 127.0.0.0/8, nodes: [n0, n1, n2]}\n')
  const ok = await runCli(['natgw', 'status', '--config', withGroup, '--nats-creds', seedOf('operator')])
  expect(ok.stderr).toBe('')
  expect(ok.stdout.split('\n').filter(Boolean)).toHaveLength(3)
  const refused = await runCli(['natgw', 'status', '--config', withGroup, '-T', '3'])
  expect(refused.code).toBe(1)
  expect(refused.stdout).toBe('')
  expect(refused.stderr).toMatch(/refused the connection.*Authorization Violation.*--nats-creds/)
})

test('a daemon accepts a ban on the node-to-node subject only from the leader', async () => {
  const leader = (await tc.client.status()).leader ?? -1
  const sender = [0, 1, 2].find((p) => p !== leader)!
  const target = [0, 1, 2].find((p) => p !== leader && p !== sender) ?? -1
  const {nc} = await connectAs(`n${sender}`)
  const reply = parseControlReply((await nc.request(s().control(target, sender), encode({v: 1, op: 'ban', seconds: 60}), {timeout: 3000})).data)
  expect(reply).toEqual({ok: false, error: `ban refused: node ${sender} is not the leader (the leader is ${leader})`})
  const disable = parseControlReply((await nc.request(s().control(target, sender), encode({v: 1, op: 'disable'}), {timeout: 3000})).data)
  expect(disable).toEqual({ok: false, error: `"disable" is an operator control; node ${sender} may not send it`})
  // Pretending to be the leader is refused by the server.
  await expect(nc.request(s().control(target, leader), encode({v: 1, op: 'ban', seconds: 60}), {timeout: 2000})).rejects.toThrow(/Permissions Violation/)
  const state = await tc.client.status(target)
  expect(state.nodes[target].flags).not.toContain('BANNED')
}, 30_000)

test('no seed appears in any daemon or server log', () => {
  const seeds = readdirSync(tc.sandbox.credsDir!).filter((f) => f.endsWith('.nk')).map((f) => readFileSync(join(tc.sandbox.credsDir!, f), 'utf8').trim())
  expect(seeds).toHaveLength(4)
  const logs = [...tc.sandbox.daemons.map((d) => d.log), ...tc.sandbox.nats.map((_n, i) => join(tc.sandbox.dir, `nats-${i}.log`))]
  for (const log of logs) {
    const text = readFileSync(log, 'utf8')
    expect(text.length).toBeGreaterThan(0)
    for (const seed of seeds) expect(text).not.toContain(seed)
  }
})

test('a daemon given an unusable credentials file says which file, not what is in it', async () => {
  const secret = 'SUNOTAREALSEEDBUTSECRETTEXT'
  const bad = join(tc.sandbox.dir, 'bad.nk')
  writeFileSync(bad, `${secret}\n`, {mode: 0o600})
  const r = await runCli(['daemon', '--config', tc.sandbox.configFile, '--node', 'n0', '--data-dir', join(tc.sandbox.dir, 'bad-node'), '--ip-driver', 'fake', '--nats-creds', bad], {timeout: 20_000})
  expect(r.code).not.toBe(0)
  expect((r.stdout + r.stderr).replace(/\s+/g, ' ')).toContain(`${bad} is not a NATS credentials file`)
  expect(r.stdout + r.stderr).not.toContain(secret)
}, 30_000)

test('`ctdbctl dev up` authenticates by default and prints the operator credentials to use', async () => {
  const base = mkdtempSync(join(tmpdir(), 'ctdbctl-devup-'))
  const dir = join(base, 'sb')
  try {
    const up = await runCli(['dev', 'up', '--nodes', '1', '--dir', dir, '--name', 'solo'], {timeout: 60_000})
    expect(up.code).toBe(0)
    const creds = /export CTDBCTL_NATS_CREDS=(\S+)/.exec(up.stdout)?.[1]
    expect(creds).toBe(join(dir, 'creds', 'operator.nk'))
    const env = {CTDBCTL_CONFIG: join(dir, 'cluster.yaml')}
    expect((await runCli(['status'], {env})).stderr).toMatch(/refused the connection/)
    const ok = await runCli(['status'], {env: {...env, CTDBCTL_NATS_CREDS: creds!}})
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('pnn:0 127.0.0.1        OK (THIS NODE)')
  } finally {
    await sandboxDown(dir)
    rmSync(base, {recursive: true, force: true})
  }
}, 90_000)
