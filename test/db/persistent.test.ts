// Persistent and replicated databases across real services over a real nats-server:
// transactions from every node, cancel, and 1,000 transactions with a node killed mid-stream.
import {DbHarness} from './harness.js'

let h: DbHarness

beforeAll(async () => {
  h = await DbHarness.start(3, [{name: 'secrets.tdb', kind: 'persistent'}])
}, 60_000)

afterAll(async () => {
  await h?.stop()
})

const b = (s: string) => Buffer.from(s)

async function put(pnn: number, db: string, pairs: [string, string][]): Promise<number> {
  const svc = h.svc(pnn)
  const owner = `o${pnn}`
  const tx = await svc.transactionStart(owner, db)
  for (const [k, v] of pairs) svc.transactionPut(owner, tx, b(k), b(v))
  return (await svc.transactionCommit(owner, tx)).seqnum
}

test('transactions from any node reach every node with one sequence number; cancel leaves nothing', async () => {
  expect(await put(0, 'secrets.tdb', [['a', '1']])).toBe(1)
  expect(await put(2, 'secrets.tdb', [['b', '2'], ['a', '3']])).toBe(2)
  for (const p of [0, 1, 2]) {
    expect((await h.svc(p).fetch('secrets.tdb', b('a'))).data?.toString()).toBe('3')
    expect(h.svc(p).list().find((d) => d.name === 'secrets.tdb')?.seqnum).toBe(2)
  }
  const svc = h.svc(1)
  const tx = await svc.transactionStart('x', 'secrets.tdb')
  svc.transactionPut('x', tx, b('c'), b('never'))
  expect((await svc.transactionGet('x', tx, b('c')))?.toString()).toBe('never')
  expect((await svc.transactionGet('x', tx, b('a')))?.toString()).toBe('3')
  svc.transactionCancel('x', tx)
  // The lock is free again and nothing of the cancelled transaction is anywhere.
  expect(await put(1, 'secrets.tdb', [['d', '4']])).toBe(3)
  for (const p of [0, 1, 2]) expect((await h.svc(p).fetch('secrets.tdb', b('c'))).data).toBeUndefined()
  const digests = await Promise.all([0, 1, 2].map((p) => h.svc(p).digest('secrets.tdb')))
  expect(new Set(digests).size).toBe(1)
  await expect(h.svc(0).fetchLock('o', 'secrets.tdb', b('a'))).rejects.toThrow(/persistent; this needs volatile/)
  await expect(h.svc(0).transactionCommit('o', 999)).rejects.toThrow(/no transaction 999/)
  const big = await h.svc(0).transactionStart('big', 'secrets.tdb')
  for (let i = 0; i < 20; i++) h.svc(0).transactionPut('big', big, b(`big${i}`), Buffer.alloc(60_000))
  await expect(h.svc(0).transactionCommit('big', big)).rejects.toThrow(/too large/)
  expect(h.svc(1).list().find((d) => d.name === 'secrets.tdb')?.seqnum).toBe(3)
})

test('transactions on one database are serialised cluster-wide', async () => {
  await h.svc(0).attach('ctr.tdb', 'replicated')
  const incr = async (pnn: number) => {
    const svc = h.svc(pnn)
    const owner = `inc${pnn}`
    const tx = await svc.transactionStart(owner, 'ctr.tdb')
    const v = Number((await svc.transactionGet(owner, tx, b('n')))?.toString() ?? '0')
    svc.transactionPut(owner, tx, b('n'), b(String(v + 1)))
    await svc.transactionCommit(owner, tx)
  }
  await Promise.all([0, 1, 2].map(async (p) => {
    for (let i = 0; i < 30; i++) await incr(p)
  }))
  for (const p of [0, 1, 2]) expect((await h.svc(p).fetch('ctr.tdb', b('n'))).data?.toString()).toBe('90')
})

test('1,000 transactions from all nodes with one node killed mid-stream: committed ones everywhere, none half-applied', async () => {
  await h.svc(0).attach('tx.tdb', 'persistent')
  const committed = new Set<string>()
  const attempted: string[] = []
  let total = 0
  let killed = false
  const loop = async (pnn: number): Promise<void> => {
    for (let i = 0; ; i++) {
      if (total >= 1000 || (pnn === 2 && killed)) return
      const id = `${pnn}-${i}`
      attempted.push(id)
      total++
      try {
        await put(pnn, 'tx.tdb', [[`${id}-a`, id], [`${id}-b`, id]])
        committed.add(id)
      } catch (e) {
        if (pnn === 2 && killed) return
        throw e
      }
      if (total === 300 && !killed) {
        killed = true
        await h.kill(2)
        return pnn === 2 ? undefined : loop(pnn)
      }
    }
  }
  const recovering = (async () => {
    while (!killed) await new Promise((r) => setTimeout(r, 20))
    await h.recover()
  })()
  await Promise.all([loop(0), loop(1), loop(2), recovering])
  // Only transactions in flight on the killed node when it died may be lost.
  const lost = attempted.filter((id) => !committed.has(id))
  expect(lost.filter((id) => !id.startsWith('2-'))).toEqual([])
  expect(lost.length).toBeLessThanOrEqual(1)
  expect(attempted.length).toBe(1000)
  for (const p of [0, 1]) {
    for (const id of attempted) {
      const a = (await h.svc(p).fetch('tx.tdb', b(`${id}-a`))).data?.toString()
      const bb = (await h.svc(p).fetch('tx.tdb', b(`${id}-b`))).data?.toString()
      expect([id, a, bb]).toEqual(a === undefined ? [id, undefined, undefined] : [id, id, id])
      if (committed.has(id)) expect(a).toBe(id)
    }
  }
  expect(await h.svc(0).digest('tx.tdb')).toBe(await h.svc(1).digest('tx.tdb'))
}, 120_000)
