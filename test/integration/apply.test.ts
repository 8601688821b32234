// apply / history / show / rollback / drift against a real `dev up` cluster (issue 6 acceptance).
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {jetstream} from '@nats-io/jetstream'
import {ConfigStore, StaleRevisionError, configBucket} from '../../src/protocol/config-store.js'
import {casWrite} from '../../src/protocol/kv-cas.js'
import {startDaemon} from '../../src/dev/sandbox.js'
import {stopProcess} from '../../src/dev/nats-servers.js'
import {runCli} from '../helpers/cli.js'
import {flagsOf, startTestCluster, type TestCluster} from '../helpers/sandbox.js'
import {waitFor} from '../helpers/wait.js'

let tc: TestCluster
let seed: string
const env = () => ({CTDBCTL_CONFIG: tc.sandbox.configFile})
const cli = (args: string[], input?: string) => runCli(args, {env: env(), input})

/** The sandbox config with `count` public addresses added. */
function withAddresses(count: number): string {
  const lines = Array.from({length: count}, (_, i) => `    - {address: 192.0.2.${10 + i}/24, interfaces: [eth1]}`)
  return seed.replace('  nodes:\n', `  publicAddresses:\n${lines.join('\n')}\n  nodes:\n`)
}

function writeConfig(name: string, text: string): string {
  const file = join(tc.sandbox.dir, name)
  writeFileSync(file, text)
  return file
}

async function currentRevision(): Promise<number> {
  const r = await cli(['history', '--json'])
  const revs = JSON.parse(r.stdout) as {revision: number}[]
  return revs.at(-1)!.revision
}

beforeAll(async () => {
  tc = await startTestCluster(3, '')
  seed = readFileSync(tc.sandbox.configFile, 'utf8')
}, 60_000)

afterAll(async () => {
  await tc?.down()
}, 30_000)

test('apply a change: every node reports the new revision, history shows it, rollback restores the YAML byte for byte', async () => {
  const before = await cli(['show'])
  expect(before.code).toBe(0)
  expect(before.stdout).toBe(seed) // the daemons seeded the cluster with the local file

  const file = writeConfig('one.yaml', withAddresses(1))
  const r = await cli(['apply', file, '--yes', '-m', 'one address'])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  expect(r.stdout).toContain('+ public address 192.0.2.10')
  expect(r.stdout).toMatch(/Apply complete: revision (\d+), 3\/3 nodes converged/)
  const revision = Number(/Apply complete: revision (\d+)/.exec(r.stdout)![1])
  for (const v of await tc.views()) for (const n of v.nodes) expect(n.configRevision).toBe(revision)

  const history = await cli(['history'])
  expect(history.stdout).toContain('one address')
  expect(history.stdout).toContain('1 to add, 0 to change, 0 to remove')
  expect((await cli(['show'])).stdout).toBe(withAddresses(1))

  const firstRevision = (JSON.parse((await cli(['history', '--json'])).stdout) as {revision: number}[])[0].revision
  const rb = await cli(['rollback', String(firstRevision), '--yes'])
  expect(rb.code).toBe(0)
  expect(rb.stdout).toContain('- public address 192.0.2.10')
  expect((await cli(['show'])).stdout).toBe(seed)
  expect((await cli(['show', String(revision)])).stdout).toBe(withAddresses(1))
}, 60_000)

test('two applies from the same base: exactly one wins, the other is refused as stale', async () => {
  const base = (await cli(['show'])).stdout
  const baseFile = writeConfig('base.yaml', base)
  const planA = join(tc.sandbox.dir, 'a.json')
  const planB = join(tc.sandbox.dir, 'b.json')
  expect((await cli(['plan', writeConfig('a.yaml', withAddresses(2)), '--against', baseFile, '--out', planA])).code).toBe(0)
  expect((await cli(['plan', writeConfig('b.yaml', withAddresses(3)), '--against', baseFile, '--out', planB])).code).toBe(0)
  const [a, b] = await Promise.all([cli(['apply', '--plan', planA, '--yes']), cli(['apply', '--plan', planB, '--yes'])])
  const winners = [a, b].filter((r) => r.code === 0)
  const losers = [a, b].filter((r) => r.code !== 0)
  expect(winners).toHaveLength(1)
  expect(losers).toHaveLength(1)
  expect(losers[0].stderr).toMatch(/the cluster changed since this plan was made/)
  const shown = (await cli(['show'])).stdout
  expect([withAddresses(2), withAddresses(3)]).toContain(shown)
  const views = await tc.views()
  const revision = await currentRevision()
  for (const v of views) for (const n of v.nodes) expect(n.configRevision).toBe(revision)
}, 60_000)

test('compare-and-set in the store: two writes against one base revision, one StaleRevisionError', async () => {
  const store = await ConfigStore.open(tc.client.connection, tc.sandbox.cluster, 3)
  const current = (await store.current())!
  const entry = (author: string) => ({yaml: current.yaml, sha256: current.sha256, author, time: new Date().toISOString()})
  const results = await Promise.allSettled([store.write(entry('alice'), current.revision), store.write(entry('bob'), current.revision)])
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
  const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
  expect(rejected.reason).toBeInstanceOf(StaleRevisionError)
  expect((rejected.reason as Error).message).toMatch(/^the cluster changed since this plan was made \(revision \d+, now \d+\)$/)
})

test('a write whose reply was lost is recognised as ours when retried, and archived', async () => {
  const store = await ConfigStore.open(tc.client.connection, tc.sandbox.cluster, 3)
  const current = (await store.current())!
  const entry = {yaml: current.yaml, sha256: current.sha256, author: 'retry', time: new Date().toISOString()}
  // The first attempt reached the stream, its acknowledgement never reached us.
  const stored = await casWrite(jetstream(tc.client.connection), configBucket(tc.sandbox.cluster), 'applied', JSON.stringify(entry), current.revision)
  expect(await store.write(entry, current.revision)).toBe(stored)
  expect((await store.get(stored))?.author).toBe('retry')
  await expect(store.write({...entry, author: 'other'}, current.revision)).rejects.toBeInstanceOf(StaleRevisionError)
})

test('apply refuses without --yes when standard input is not a terminal, and writes nothing', async () => {
  const before = await currentRevision()
  const r = await cli(['apply', writeConfig('four.yaml', withAddresses(4))])
  expect(r.code).toBe(1)
  expect(r.stderr).toMatch(/pass --yes/)
  expect(await currentRevision()).toBe(before)
})

test('an invalid config is never written', async () => {
  const before = await currentRevision()
  const r = await cli(['apply', writeConfig('bad.yaml', seed.replace('kind: Cluster', 'kind: Clusterr')), '--yes'])
  expect(r.code).toBe(1)
  expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: error: must be "Cluster"/)
  expect(await currentRevision()).toBe(before)
})

test('an invalid config pushed directly into the bucket is rejected by every daemon, which keep the last good revision', async () => {
  const good = await currentRevision()
  const store = await ConfigStore.open(tc.client.connection, tc.sandbox.cluster, 3)
  const bad = await store.putRaw(JSON.stringify({yaml: 'apiVersion: nope\n', sha256: 'x', author: 'intruder', time: new Date().toISOString()}))
  await waitFor('every daemon to report the rejection', async () => {
    const views = await tc.views()
    return views.every((v) => v.nodes.every((n) => n.configError?.startsWith(`revision ${bad} rejected`))) ? views : undefined
  }, 5000)
  for (const v of await tc.views()) for (const n of v.nodes) expect(n.configRevision).toBe(good)
  const status = await cli(['status', '--json'])
  expect(JSON.parse(status.stdout).nodes[0].configError).toMatch(/rejected/)
  const drift = await cli(['drift'])
  expect(drift.code).toBe(2)
  // Recover: apply a good config again.
  expect((await cli(['apply', writeConfig('recover.yaml', seed), '--yes', '--force'])).code).toBe(0)
  expect((await cli(['drift'])).code).toBe(0)
}, 60_000)

test('a node down during apply: reported as not converged, accepted with --allow-missing, converges when it returns', async () => {
  const victim = 2
  await stopProcess(tc.sandbox.daemons[victim].pid, undefined, 'SIGKILL')
  await waitFor('victim DISCONNECTED', async () => (flagsOf(await tc.client.status(0), victim).includes('DISCONNECTED') ? true : undefined), 5000)
  const strict = await cli(['apply', writeConfig('five.yaml', withAddresses(5)), '--yes', '--wait', '2'])
  expect(strict.code).toBe(2)
  expect(strict.stderr).toMatch(/not every node converged.*n2 \(DISCONNECTED\)/)
  const lenient = await cli(['apply', writeConfig('six.yaml', withAddresses(6)), '--yes', '--wait', '2', '--allow-missing'])
  expect(lenient.code).toBe(0)
  expect(lenient.stdout).toMatch(/n2 missing, allowed by --allow-missing/)
  const revision = await currentRevision()
  expect((await cli(['drift'])).code).toBe(2)
  tc.sandbox.daemons[victim] = startDaemon(tc.sandbox, victim)
  await waitFor('the returning node to converge', async () => ((await tc.views()).every((v) => v.nodes.every((n) => n.configRevision === revision && n.flags.length === 0 && n.converged)) ? true : undefined), 15_000)
  expect((await cli(['drift'])).code).toBe(0)
}, 60_000)
