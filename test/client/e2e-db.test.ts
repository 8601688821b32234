// The client surface end to end with the real database service: real nats-servers and daemons
// (startTestCluster), clients on the daemons' Unix sockets, the CLI as users run it.
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CtdbClient} from '../../src/client/ctdb-client.js'
import {requireBuilt, runCli} from '../helpers/cli.js'
import {startTestCluster, type TestCluster} from '../helpers/sandbox.js'
import {waitFor} from '../helpers/wait.js'

let tc: TestCluster
const clients: CtdbClient[] = []
const socketOf = (pnn: number) => join(tc.sandbox.daemons[pnn].dataDir, 'ctdbd.socket')
const client = async (pnn: number) => {
  const c = await CtdbClient.connect(socketOf(pnn))
  clients.push(c)
  return c
}
const contents = async (c: CtdbClient, db: string) => {
  const out: [string, string][] = []
  for await (const r of c.traverse(db)) if (r.data.length > 0 && !r.key.toString().startsWith('__db_sequence_number__')) out.push([r.key.toString(), r.data.toString()])
  return out.sort()
}

beforeAll(async () => {
  requireBuilt('dist/db/index.js')
  tc = await startTestCluster(3, '')
  await waitFor('the client sockets', () => ([0, 1, 2].every((p) => existsSync(socketOf(p))) ? true : undefined), 20_000)
}, 90_000)

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await tc?.down()
}, 30_000)

test('two clients on different nodes increment one volatile record alternately 10,000 times: no lost update', async () => {
  const [a, b] = [await client(0), await client(1)]
  await a.attach('counter.tdb', 'volatile')
  let last = {rsn: 0}
  for (let i = 0; i < 10_000; i++) {
    const c = i % 2 === 0 ? a : b
    const r = await c.fetchLock('counter.tdb', 'n')
    expect(r.header.dmaster).toBe(c.pnn)
    expect(r.header.rsn).toBeGreaterThanOrEqual(last.rsn)
    last = r.header
    await r.store(String(Number(r.data?.toString() || '0') + 1))
  }
  const c = await client(2)
  expect((await c.fetch('counter.tdb', 'n')).data?.toString()).toBe('10000')
}, 300_000)

test('concurrent increments from clients on all three nodes serialise', async () => {
  const cs = [await client(0), await client(1), await client(2), await client(0)]
  await cs[0].attach('race.tdb', 'volatile')
  await Promise.all(cs.map(async (c) => {
    for (let i = 0; i < 200; i++) {
      const r = await c.fetchLock('race.tdb', 'n')
      await r.store(String(Number(r.data?.toString() || '0') + 1))
    }
  }))
  expect((await cs[1].fetch('race.tdb', 'n')).data?.toString()).toBe('800')
}, 300_000)

test('persistent transactions from every node reach every node; a cancelled one leaves nothing', async () => {
  const cs = [await client(0), await client(1), await client(2)]
  await cs[0].attach('registry.tdb', 'persistent')
  await Promise.all(cs.map(async (c) => {
    for (let i = 0; i < 20; i++) {
      const tx = await c.transaction('registry.tdb')
      await tx.put(`n${c.pnn}-${i}`, `v${i}`)
      await tx.put(`last-${c.pnn}`, String(i))
      await tx.commit()
    }
  }))
  const tx = await cs[1].transaction('registry.tdb')
  await tx.put('cancelled', 'x')
  await tx.cancel()
  const expected = [0, 1, 2].flatMap((p) => [...Array.from({length: 20}, (_, i) => [`n${p}-${i}`, `v${i}`]), [`last-${p}`, '19']]).sort() as [string, string][]
  for (const c of cs) {
    expect((await c.list()).find((d) => d.name === 'registry.tdb')?.seqnum).toBe(60)
    expect(await contents(c, 'registry.tdb')).toEqual(expected.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)))
  }
}, 300_000)

test('the CLI against live daemons: put on one node, get and dump on another, backup and restore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-e2e-'))
  try {
    const on = (pnn: number) => ({env: {CTDBCTL_SOCKET: socketOf(pnn)}})
    expect((await runCli(['db', 'attach', 'cli.tdb', 'replicated'], on(0))).code).toBe(0)
    expect((await runCli(['db', 'ptrans', 'cli.tdb'], {...on(0), input: '"a" "1"\n"b" "2"\n'})).code).toBe(0)
    expect(await runCli(['db', 'get', 'cli.tdb', 'b'], on(2))).toMatchObject({code: 0, stdout: '2'})
    const file = join(dir, 'cli.backup')
    expect((await runCli(['db', 'backup', 'cli.tdb', file], on(1))).code).toBe(0)
    expect((await runCli(['db', 'put', 'cli.tdb', 'a', 'changed'], on(1))).code).toBe(0)
    expect((await runCli(['db', 'restore', file], on(2))).code).toBe(0)
    expect(await runCli(['db', 'get', 'cli.tdb', 'a'], on(0))).toMatchObject({code: 0, stdout: '1'})
    const list = await runCli(['db', 'list'], on(1))
    expect(list.stdout).toMatch(/name:cli.tdb path:\S+ REPLICATED/)
    expect((await runCli(['db', 'dump', 'cli.tdb'], on(2))).stdout).toMatch(/key\(23\) = "__db_sequence_number__\\00"[\s\S]*Dumped 3 records\n$/)
    expect((await runCli(['db', 'delete', 'cli.tdb', 'b'], on(1))).code).toBe(0)
    expect(await runCli(['db', 'get', 'cli.tdb', 'b'], on(0))).toMatchObject({code: 1, stderr: 'no record for key "b" in cli.tdb\n'})
    const dump = (await runCli(['db', 'dump', 'cli.tdb'], on(2))).stdout
    expect(dump).toMatch(/Dumped 2 records\n$/)
    expect(dump).not.toMatch(/key\(1\) = "b"/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}, 120_000)
