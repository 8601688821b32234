// Volatile databases across real services over a real nats-server: attach broadcast,
// fetch-lock with migration, delete, traverse, and two nodes incrementing one record.
import {DbHarness} from './harness.js'

let h: DbHarness

beforeAll(async () => {
  h = await DbHarness.start(3)
}, 60_000)

afterAll(async () => {
  await h?.stop()
})

const key = (s: string) => Buffer.from(s)

async function increment(pnn: number, owner: string, db: string, k: Buffer): Promise<number> {
  const svc = h.svc(pnn)
  const r = await svc.fetchLock(owner, db, k)
  const next = (r.data ? Number(r.data.toString()) : 0) + 1
  await svc.store(owner, r.handle, Buffer.from(String(next)))
  svc.release(owner, r.handle)
  return next
}

test('attach on one node reaches every node, and an existing name with another kind is refused', async () => {
  const info = await h.svc(0).attach('locking.tdb', 'volatile')
  expect(info).toMatchObject({name: 'locking.tdb', kind: 'volatile', records: 0, healthy: true})
  // CTDB's id of "locking.tdb" (its tool unit tests' DBMAP).
  expect(info.id).toBe(0x7a19d84d)
  for (const p of [1, 2]) expect(h.svc(p).list().map((d) => d.name)).toContain('locking.tdb')
  await expect(h.svc(1).attach('locking.tdb', 'persistent')).rejects.toThrow(/volatile, not persistent/)
  await expect(h.svc(1).attach('../etc', 'volatile')).rejects.toThrow(/invalid database name/)
})

test('a record stored on one node is migrated to readers and lockers elsewhere', async () => {
  await h.svc(0).attach('m.tdb', 'volatile')
  const a = await h.svc(0).fetchLock('a', 'm.tdb', key('k1'))
  expect(a.data).toBeUndefined()
  await h.svc(0).store('a', a.handle, Buffer.from('hello'))
  h.svc(0).release('a', a.handle)
  const got = await h.svc(2).fetch('m.tdb', key('k1'))
  expect(got.data?.toString()).toBe('hello')
  expect(got.header.dmaster).toBe(2)
  expect((await h.svc(2).localRecord('m.tdb', key('k1')))?.header.dmaster).toBe(2)
  const b = await h.svc(1).fetchLock('b', 'm.tdb', key('k1'))
  expect(b.data?.toString()).toBe('hello')
  expect(b.header.rsn).toBeGreaterThan(got.header.rsn)
  h.svc(1).release('b', b.handle)
  await h.svc(1).delete('m.tdb', key('k1'))
  expect((await h.svc(0).fetch('m.tdb', key('k1'))).data).toBeUndefined()
})

test('a locked record is handed to the next locker only after release', async () => {
  await h.svc(0).attach('q.tdb', 'volatile')
  const first = await h.svc(0).fetchLock('x', 'q.tdb', key('k'))
  let second = false
  const pending = h.svc(1).fetchLock('y', 'q.tdb', key('k')).then((r) => ((second = true), r))
  await new Promise((r) => setTimeout(r, 300))
  expect(second).toBe(false)
  await h.svc(0).store('x', first.handle, Buffer.from('1'))
  h.svc(0).release('x', first.handle)
  const r = await pending
  expect(r.data?.toString()).toBe('1')
  h.svc(1).release('y', r.handle)
  expect(() => h.svc(1).release('someone-else', r.handle)).toThrow(/no record lock/)
})

test('traverse streams every record once from the node that holds it', async () => {
  await h.svc(0).attach('t.tdb', 'volatile')
  for (let i = 0; i < 30; i++) {
    const p = i % 3
    const r = await h.svc(p).fetchLock('t', 't.tdb', key(`r${i}`))
    await h.svc(p).store('t', r.handle, Buffer.from(`v${i}`))
    h.svc(p).release('t', r.handle)
  }
  const seen = new Map<string, string>()
  for await (const rec of h.svc(1).traverse('t.tdb')) seen.set(rec.key.toString(), rec.data.toString())
  expect(seen.size).toBe(30)
  for (let i = 0; i < 30; i++) expect(seen.get(`r${i}`)).toBe(`v${i}`)
})

test('two nodes increment one record alternately 10,000 times without losing an update', async () => {
  await h.svc(0).attach('counter.tdb', 'volatile')
  const k = key('counter')
  const each = 5000
  const run = async (pnn: number) => {
    for (let i = 0; i < each; i++) await increment(pnn, `c${pnn}`, 'counter.tdb', k)
  }
  await Promise.all([run(0), run(1)])
  const final = await h.svc(2).fetch('counter.tdb', k)
  expect(Number(final.data?.toString())).toBe(2 * each)
}, 120_000)
