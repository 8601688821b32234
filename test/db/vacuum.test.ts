// Vacuuming deleted volatile records (src/db/vacuum.ts) on 3 in-process database services over a
// real nats-server: deleted records disappear from every node, a recovery afterwards does not
// bring older copies back, and a record stored again after its delete survives.
import {DbHarness, yieldToIo} from './harness.js'

const b = (s: string) => Buffer.from(s)
const DB = 'vac.tdb'

let h: DbHarness
beforeAll(async () => {
  h = await DbHarness.start(3, [{name: DB, kind: 'volatile'}])
}, 60_000)
afterAll(async () => {
  await h?.stop()
})

async function put(pnn: number, key: string, value: string): Promise<void> {
  const r = await h.svc(pnn).fetchLock(`w${pnn}`, DB, b(key))
  await h.svc(pnn).store(`w${pnn}`, r.handle, b(value), true)
  await yieldToIo()
}

/** Nodes holding any copy of `key`, and whether that copy has data. */
async function copies(key: string): Promise<string[]> {
  const out: string[] = []
  for (const p of [0, 1, 2]) {
    const r = await h.svc(p).localRecord(DB, b(key))
    if (r) out.push(`n${p}:${r.data.length > 0 ? 'data' : 'empty'}`)
  }
  return out
}

test('deleted records are removed from every node and stay gone after a recovery; a record stored again is kept', async () => {
  const keys = Array.from({length: 120}, (_x, i) => `k${i}`)
  // Written from every node, moved between nodes, then spread by a recovery (two copies each).
  for (const [i, k] of keys.entries()) await put(i % 3, k, `v1-${k}`)
  for (const [i, k] of keys.entries()) await put((i + 1) % 3, k, `v2-${k}`)
  await h.recover()
  const deleted = keys.filter((_k, i) => i % 3 !== 0)
  for (const [i, k] of deleted.entries()) {
    await h.svc(i % 3).delete(DB, b(k))
    await yieldToIo()
  }
  // One deleted record is stored again before vacuuming: it must survive.
  await put(2, deleted[0]!, 'back')
  const gone = deleted.slice(1)
  const before = (await Promise.all(gone.map(copies))).flat()
  expect(before.filter((c) => c.endsWith('empty')).length).toBeGreaterThanOrEqual(gone.length)
  expect(before.some((c) => c.endsWith('data'))).toBe(true) // older copies elsewhere

  let removed = 0
  for (let pass = 0; pass < 5 && removed < gone.length; pass++) {
    for (const p of [0, 1, 2]) removed += await h.svc(p).vacuum()
  }
  expect(removed).toBe(gone.length)
  for (const k of gone) expect({k, copies: await copies(k)}).toEqual({k, copies: []})

  // A recovery merges what is left: nothing deleted comes back.
  await h.recover()
  for (const k of gone) expect({k, data: (await h.svc(1).fetch(DB, b(k))).data}).toEqual({k, data: undefined})
  expect((await h.svc(0).fetch(DB, b(deleted[0]!))).data?.toString()).toBe('back')
  for (const k of keys.filter((_k, i) => i % 3 === 0)) expect((await h.svc(2).fetch(DB, b(k))).data?.toString()).toBe(`v2-${k}`)
  let traversed = 0
  for await (const _r of h.svc(0).traverse(DB)) traversed++
  expect(traversed).toBe(keys.length - gone.length)
  // Reading a missing record creates an empty one (as in CTDB): the next pass removes those too.
  for (const p of [0, 1, 2]) await h.svc(p).vacuum()
  for (const k of gone) expect({k, copies: await copies(k)}).toEqual({k, copies: []})
}, 120_000)

test('a record locked by a client is left for a later pass', async () => {
  await put(0, 'held', 'x')
  await h.svc(0).delete(DB, b('held'))
  const owner = 'holder'
  const r = await h.svc(0).fetchLock(owner, DB, b('held'))
  const dataMaster = r.header.dmaster
  expect(await h.svc(dataMaster).vacuum()).toBe(0)
  h.svc(0).release(owner, r.handle)
  let removed = 0
  for (let pass = 0; pass < 3 && removed === 0; pass++) for (const p of [0, 1, 2]) removed += await h.svc(p).vacuum()
  expect(removed).toBe(1)
  expect(await copies('held')).toEqual([])
}, 60_000)

describe('the periodic pass', () => {
  let p: DbHarness
  beforeAll(async () => {
    p = await DbHarness.start(2, [{name: DB, kind: 'volatile'}], {vacuumIntervalMs: 200})
  }, 60_000)
  afterAll(async () => {
    await p?.stop()
  })

  const tell = (everyNodeActive: boolean) => {
    // The generation of the harness's recovery: the leader sees nothing new to recover.
    for (const pnn of [0, 1]) p.svc(pnn).update({leader: pnn === 0, leaderPnn: 0, quorate: true, generation: 2, participants: [0, 1], lmasterCapable: () => true, everyNodeActive})
  }

  test('runs only while every configured node is active', async () => {
    for (const k of ['a', 'b', 'c']) {
      const r = await p.svc(1).fetchLock('w', DB, b(k))
      await p.svc(1).store('w', r.handle, b('x'), true)
      await p.svc(1).delete(DB, b(k))
    }
    tell(false)
    await new Promise((r) => setTimeout(r, 1000))
    expect((await p.svc(1).localRecord(DB, b('a')))?.data.length).toBe(0)
    tell(true)
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && (await p.svc(1).localRecord(DB, b('c'))) !== undefined) await new Promise((r) => setTimeout(r, 100))
    for (const k of ['a', 'b', 'c']) for (const pnn of [0, 1]) expect(await p.svc(pnn).localRecord(DB, b(k))).toBeUndefined()
  }, 60_000)
})
