// Recovery across real services over a real nats-server: the node holding a contended volatile
// record dies mid-run; 100,000 volatile and 100,000 persistent records are recovered and every
// node agrees on the content.
import {createHash} from 'node:crypto'
import {hashlittle} from '../../src/db/hash.js'
import {DbHarness, yieldToIo} from './harness.js'

const b = (s: string) => Buffer.from(s)

describe('a node holding a contended volatile record is killed', () => {
  let h: DbHarness
  beforeAll(async () => {
    h = await DbHarness.start(3, [{name: 'counter.tdb', kind: 'volatile'}])
  }, 60_000)
  afterAll(async () => {
    await h?.stop()
  })

  test('the record survives with the highest sequence number a surviving node saw; the other client carries on', async () => {
    const k = b('counter')
    let killedAt: {rsn: number; value: number} | undefined
    const after: number[] = []
    let rsnAfter: number | undefined
    const client0 = (async () => {
      for (let i = 0; i < 3000; i++) {
        const svc = h.svc(0)
        const r = await svc.fetchLock('c0', 'counter.tdb', k)
        const next = (r.data ? Number(r.data.toString()) : 0) + 1
        await svc.store('c0', r.handle, b(String(next)))
        svc.release('c0', r.handle)
        await yieldToIo()
        if (killedAt) {
          rsnAfter ??= r.header.rsn
          after.push(next)
        }
      }
    })()
    const client1 = (async () => {
      for (let i = 0; ; i++) {
        const svc = h.svc(1)
        const r = await svc.fetchLock('c1', 'counter.tdb', k)
        if (i === 1000) {
          // Node 1 holds the record: kill it, then see what the survivors hold.
          await h.kill(1)
          const copies = await Promise.all([0, 2].map((p) => h.svc(p).localRecord('counter.tdb', k)))
          const best = copies.filter((c) => c !== undefined).sort((x, y) => y!.header.rsn - x!.header.rsn)[0]!
          killedAt = {rsn: best.header.rsn, value: Number(best.data.toString())}
          return
        }
        const next = (r.data ? Number(r.data.toString()) : 0) + 1
        await svc.store('c1', r.handle, b(String(next)))
        svc.release('c1', r.handle)
        await yieldToIo()
      }
    })()
    await client1
    await h.recover()
    await client0
    expect(killedAt).toBeDefined()
    expect(rsnAfter).toBeGreaterThanOrEqual(killedAt!.rsn)
    // Client 0's increments after the kill continue from the surviving value, none lost.
    expect(after.length).toBeGreaterThan(0)
    expect(after).toEqual(after.map((_v, i) => killedAt!.value + 1 + i))
    expect(Number((await h.svc(2).fetch('counter.tdb', k)).data?.toString())).toBe(after.at(-1))
  }, 120_000)
})

describe('a record untouched since the last recovery', () => {
  let h: DbHarness
  beforeAll(async () => {
    h = await DbHarness.start(3, [{name: 'kept.tdb', kind: 'volatile'}])
  }, 60_000)
  afterAll(async () => {
    await h?.stop()
  })

  test('survives the loss of its location master, with its sequence number', async () => {
    const keys = Array.from({length: 300}, (_v, i) => b(`k${i}`))
    for (const k of keys) {
      const r = await h.svc(0).fetchLock('w', 'kept.tdb', k)
      await h.svc(0).store('w', r.handle, k)
      h.svc(0).release('w', r.handle)
    }
    await h.recover() // every record now lives at its location master (and one more node)
    // Read each location master's own copy: a fetch would migrate the record and hide the loss.
    const rsn = new Map(await Promise.all(keys.map(async (k) => [k.toString(), (await h.svc(hashlittle(k) % 3).localRecord('kept.tdb', k))!.header.rsn] as const)))
    const heldBy2 = keys.filter((k) => hashlittle(k) % 3 === 2)
    expect(heldBy2.length).toBeGreaterThan(50)
    await h.kill(2)
    await h.recover()
    for (const k of keys) {
      const r = await h.svc(1).fetch('kept.tdb', k)
      expect(r.data?.toString()).toBe(k.toString())
      expect(r.header.rsn).toBeGreaterThanOrEqual(rsn.get(k.toString())!)
    }
  }, 120_000)
})

describe('recovery of 100,000 records', () => {
  let h: DbHarness
  const N = 100_000
  beforeAll(async () => {
    h = await DbHarness.start(3, [{name: 'big.tdb', kind: 'volatile'}, {name: 'bigp.tdb', kind: 'persistent'}])
  }, 60_000)
  afterAll(async () => {
    await h?.stop()
  })

  test('volatile records written on all three nodes and persistent ones from 100 transactions: every node agrees after recovery', async () => {
    // Each record is written on its location master (no migration), so all three nodes hold a third.
    const byNode: number[][] = [[], [], []]
    for (let i = 0; i < N; i++) byNode[hashlittle(b(`k${i}`)) % 3]!.push(i)
    await Promise.all(
      byNode.flatMap((ids, p) =>
        Array.from({length: 4}, async (_x, w) => {
          const svc = h.svc(p)
          for (let j = w; j < ids.length; j += 4) {
            const r = await svc.fetchLock(`w${w}`, 'big.tdb', b(`k${ids[j]}`))
            await svc.store(`w${w}`, r.handle, b(`v${ids[j]}`))
            svc.release(`w${w}`, r.handle)
          }
        }),
      ),
    )
    for (let t = 0; t < 100; t++) {
      const svc = h.svc(t % 3)
      const tx = await svc.transactionStart('p', 'bigp.tdb')
      for (let i = t * 1000; i < (t + 1) * 1000; i++) svc.transactionPut('p', tx, b(`p${i}`), b(`v${i}`))
      await svc.transactionCommit('p', tx)
    }
    expect(h.svc(0).list().find((d) => d.name === 'big.tdb')!.records).toBeGreaterThan(N / 4)
    const started = performance.now()
    await h.recover()
    const ms = performance.now() - started
    expect(h.svc(0).lastRecovery?.records).toBe(2 * N + 1) // + __db_sequence_number__
    console.log(`recovery of ${N} volatile + ${N} persistent records on 3 nodes: ${Math.round(ms)} ms`)
    // Persistent: identical copies. Volatile: every node traverses the same complete content.
    const digests = await Promise.all([0, 1, 2].map((p) => h.svc(p).digest('bigp.tdb')))
    expect(new Set(digests).size).toBe(1)
    const traversals = await Promise.all(
      [0, 1, 2].map(async (p) => {
        const seen = new Map<string, string>()
        for await (const r of h.svc(p).traverse('big.tdb')) seen.set(r.key.toString(), r.data.toString())
        const hash = createHash('sha256')
        for (const key of [...seen.keys()].sort()) hash.update(`${key}=${seen.get(key)}\n`)
        return {count: seen.size, hash: hash.digest('hex'), sample: seen.get('k12345')}
      }),
    )
    expect(traversals.map((t) => t.count)).toEqual([N, N, N])
    expect(new Set(traversals.map((t) => t.hash)).size).toBe(1)
    expect(traversals[0]!.sample).toBe('v12345')
  }, 120_000)
})
