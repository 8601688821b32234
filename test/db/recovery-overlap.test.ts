// A recovery that gets as far as wiping the nodes' volatile copies and then stops (its master
// was superseded by another leader, or a node failed during the push) must not lose anything:
// the next recovery still collects the highest-RSN copies. The chaos suite caught every
// volatile record reset to RSN 0/1 after two leaders recovered in quick succession.
import type {DbNode} from '../../src/db/node-state.js'
import {DbHarness} from './harness.js'

let h: DbHarness

beforeAll(async () => {
  h = await DbHarness.start(3, [{name: 'ov.tdb', kind: 'volatile'}, {name: 'ovp.tdb', kind: 'persistent'}])
}, 60_000)

afterAll(async () => {
  await h?.stop()
})

const b = (s: string) => Buffer.from(s)
const keys = ['v-0', 'v-1', 'v-2', 'v-3']

async function increment(pnn: number, key: string): Promise<void> {
  const svc = h.svc(pnn)
  const r = await svc.fetchLock('c', 'ov.tdb', b(key))
  await svc.store('c', r.handle, b(String((r.data ? Number(r.data.toString()) : 0) + 1)))
  svc.release('c', r.handle)
}

async function read(pnn: number, key: string): Promise<{rsn: number; value: number}> {
  const svc = h.svc(pnn)
  const r = await svc.fetchLock('r', 'ov.tdb', b(key))
  svc.release('r', r.handle)
  return {rsn: r.header.rsn, value: Number(r.data?.toString() ?? 0)}
}

test('a superseded recovery that wiped the nodes loses no volatile record', async () => {
  for (let i = 0; i < 30; i++) for (const k of keys) await increment(i % 3, k)
  const tx = await h.svc(0).transactionStart('o', 'ovp.tdb')
  h.svc(0).transactionPut('o', tx, b('p'), b('kept'))
  await h.svc(0).transactionCommit('o', tx)
  const before = new Map<string, {rsn: number; value: number}>()
  for (const k of keys) before.set(k, await read(0, k))
  for (const k of keys) expect(before.get(k)!.value).toBe(30)

  // Node 2 acts as a competing recovery master: it freezes everyone and wipes, then is gone.
  const rogue = (h.svc(2) as unknown as {node: DbNode}).node
  const gen = 424242
  for (const p of [0, 1, 2]) await rogue.call(p, {op: 'freeze', gen}, undefined, 10_000)
  for (const p of [0, 1, 2]) await rogue.call(p, {op: 'wipe', db: 'ov.tdb', gen}, undefined, 10_000)
  for (const p of [1, 2]) await rogue.call(p, {op: 'wipe', db: 'ovp.tdb', gen}, undefined, 10_000)

  // The real leader recovers next: every record keeps its value and RSN.
  await h.recover()
  for (const p of [0, 1, 2]) {
    for (const k of keys) {
      const r = await read(p, k)
      expect(r.value).toBe(30)
      expect(r.rsn).toBeGreaterThanOrEqual(before.get(k)!.rsn)
    }
    expect((await h.svc(p).fetch('ovp.tdb', b('p'))).data?.toString()).toBe('kept')
  }
  // And the records go on counting.
  await increment(1, 'v-0')
  expect((await read(2, 'v-0')).value).toBe(31)
}, 60_000)
