// A node holding a volatile record is killed (SIGKILL) while clients on two nodes increment it:
// the surviving client's calls wait through recovery, and the record survives with at least the
// highest sequence number and value the survivors saw. Real nats-servers and daemons.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {CtdbClient} from '../../src/client/ctdb-client.js'
import {requireBuilt} from '../helpers/cli.js'
import {startTestCluster, type TestCluster} from '../helpers/sandbox.js'
import {waitFor} from '../helpers/wait.js'

let tc: TestCluster
const clients: CtdbClient[] = []
const socketOf = (pnn: number) => join(tc.sandbox.daemons[pnn].dataDir, 'ctdbd.socket')

beforeAll(async () => {
  requireBuilt('dist/db/index.js')
  tc = await startTestCluster(3, '')
  await waitFor('the client sockets', () => ([0, 1, 2].every((p) => existsSync(socketOf(p))) ? true : undefined), 20_000)
}, 90_000)

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
  await tc?.down()
}, 30_000)

test('kill -9 of the node holding the record mid-run: the record survives with the highest sequence number survivors saw', async () => {
  const [a, b] = [await CtdbClient.connect(socketOf(0)), await CtdbClient.connect(socketOf(1))]
  clients.push(a, b)
  await a.attach('kill.tdb', 'volatile')
  const seen = {rsn: 0, value: 0}
  let stop = false
  const bump = async (c: CtdbClient, track: boolean) => {
    while (!stop) {
      const r = await c.fetchLock('kill.tdb', 'n')
      const value = Number(r.data?.toString() || '0')
      if (track) {
        expect(r.header.rsn).toBeGreaterThanOrEqual(seen.rsn)
        expect(value).toBeGreaterThanOrEqual(seen.value)
      }
      await r.store(String(value + 1))
      if (track) Object.assign(seen, {rsn: r.header.rsn, value: value + 1})
    }
  }
  const survivor = bump(a, true)
  const victim = bump(b, false).catch((e: Error) => e)
  await waitFor('some increments', () => (seen.value >= 300 ? true : undefined), 60_000, 20)
  // n1 holds the record whenever its client has just locked it: kill it then.
  const holding = await b.fetchLock('kill.tdb', 'n').catch(() => undefined)
  expect(holding?.header.dmaster).toBe(1)
  process.kill(tc.sandbox.daemons[1].pid, 'SIGKILL')
  expect(await victim).toBeInstanceOf(Error)
  const before = {...seen}
  const killedAt = Date.now()
  await waitFor('increments after the recovery', () => (seen.value > before.value ? true : undefined), 120_000, 20)
  const resumedMs = Date.now() - killedAt
  await waitFor('more increments', () => (seen.value >= before.value + 100 ? true : undefined), 120_000, 50)
  stop = true
  await survivor
  const c = await CtdbClient.connect(socketOf(2))
  clients.push(c)
  const final = await c.fetch('kill.tdb', 'n')
  expect(Number(final.data?.toString())).toBe(seen.value)
  expect(final.header.rsn).toBeGreaterThanOrEqual(seen.rsn)
  console.info(`the surviving client resumed ${resumedMs} ms after the kill; ${before.value} increments before, ${seen.value} in all`)
}, 300_000)
