// The database service's pure parts: hashing, record encoding, lock queues, merge rules.
import {BanningCredits} from '../../src/db/banning-credits.js'
import {dbId, hashlittle} from '../../src/db/hash.js'
import {KeyedLocks} from '../../src/db/lock-queue.js'
import {copyHolders, persistentSource, VolatileMerge, vnnMap} from '../../src/db/merge.js'
import {decodePage, decodeValue, encodeValue, PageWriter, seqnumData, seqnumOf} from '../../src/db/record.js'
import {TxLockTable} from '../../src/db/tx-locks.js'
import {frame, unframe} from '../../src/db/wire.js'

test('hashlittle matches lookup3 and CTDB database ids', () => {
  expect(hashlittle(Buffer.from(''))).toBe(0xdeadbeef)
  expect(hashlittle(Buffer.from('Four score and seven years ago'))).toBe(0x17770551)
  expect(hashlittle(Buffer.from('Four score and seven years ago'), 1)).toBe(0xcd628161)
  // ctdb/tests/UNIT/tool DBMAP fixtures.
  expect(dbId('locking.tdb')).toBe(0x7a19d84d)
  expect(dbId('brlock.tdb')).toBe(0x4e66c2b2)
  expect(dbId('g_lock.tdb')).toBe(0x4d2a432b)
  expect(dbId('secrets.tdb')).toBe(0x7132c184)
})

test('values carry the 24-byte header; short values are missing; pages round-trip and reject truncation', () => {
  const v = encodeValue({rsn: 2 ** 40 + 5, dmaster: 3, flags: 0x10000}, Buffer.from('data'), 77)
  expect(v.length).toBe(28)
  expect(decodeValue(v)).toEqual({header: {rsn: 2 ** 40 + 5, dmaster: 3, flags: 0x10000}, reserved: 77, data: Buffer.from('data')})
  expect(decodeValue(Buffer.alloc(23))).toBeUndefined()
  expect(seqnumOf(encodeValue({rsn: 1, dmaster: 0, flags: 1}, seqnumData(2 ** 33 + 1)))).toBe(2 ** 33 + 1)
  expect(seqnumOf(encodeValue({rsn: 1, dmaster: 0, flags: 1}, Buffer.from('x')))).toBe(0)
  const w = new PageWriter()
  w.add(Buffer.from('a'), Buffer.from('1'))
  w.add(Buffer.alloc(0), Buffer.from('22'))
  const page = w.take()
  expect(decodePage(page)?.map((e) => [e.key.toString(), e.value.toString()])).toEqual([['a', '1'], ['', '22']])
  expect(decodePage(page.subarray(0, page.length - 1))).toBeUndefined()
  expect(unframe(frame({op: 'x'}, Buffer.from('body')))?.body.toString()).toBe('body')
  for (const bad of [Buffer.alloc(0), Buffer.from([9, 0, 0, 0, 1]), Buffer.from([2, 0, 0, 0, 0x5b, 0x5d])]) expect(unframe(bad)).toBeUndefined()
})

test('record locks are exclusive and FIFO', async () => {
  const locks = new KeyedLocks()
  const order: number[] = []
  const r1 = await locks.acquire('k')
  const p2 = Promise.resolve(locks.acquire('k')).then((r) => (order.push(2), r))
  const p3 = Promise.resolve(locks.acquire('k')).then((r) => (order.push(3), r))
  const other = await locks.acquire('other')
  other()
  await new Promise((r) => setTimeout(r, 10))
  expect(order).toEqual([])
  r1()
  const r2 = await p2
  expect(order).toEqual([2])
  r2()
  r2() // a second release is harmless
  ;(await p3)()
  expect(order).toEqual([2, 3])
  expect(locks.size).toBe(0)
})

test('volatile merge keeps the highest RSN; equal RSN replaces the leader copy; full copies come from the highest seqnum', () => {
  const m = new VolatileMerge(0)
  const val = (rsn: number, dmaster: number, d: string) => encodeValue({rsn, dmaster, flags: 0}, Buffer.from(d))
  m.add(Buffer.from('k'), val(5, 1, 'old'))
  m.add(Buffer.from('k'), val(7, 2, 'new'))
  m.add(Buffer.from('k'), val(6, 1, 'older'))
  m.add(Buffer.from('j'), val(3, 0, 'leader'))
  m.add(Buffer.from('j'), val(3, 2, 'other'))
  const out = new Map([...m.entries()].map(([k, v]) => [k.toString(), decodeValue(v)!.data.toString()]))
  expect(out).toEqual(new Map([['k', 'new'], ['j', 'other']]))
  expect(persistentSource([{pnn: 0, seqnum: 3}, {pnn: 1, seqnum: 9}, {pnn: 2, seqnum: 9}])).toBe(1)
  expect(persistentSource([{pnn: 2, seqnum: 0}, {pnn: 1, seqnum: 0}])).toBe(1)
  expect(vnnMap([2, 0, 1], (p) => p !== 1, 0)).toEqual([0, 2])
  expect(vnnMap([1, 2], () => false, 1)).toEqual([1])
  // A recovered volatile record lives on its location master and the next participant (wrapping).
  expect(copyHolders(1, [0, 1, 2])).toEqual([1, 2])
  expect(copyHolders(2, [0, 1, 2])).toEqual([2, 0])
  expect(copyHolders(3, [1, 3])).toEqual([3, 1])
  expect(copyHolders(0, [0])).toEqual([0])
})

test('transaction locks: FIFO, leases expire, long waiters retry, holders survive a recovery unless their node left', () => {
  let now = 0
  const t = new TxLockTable(1000, 500, () => now)
  const got: string[] = []
  t.acquire('db', 'a', (g) => got.push(`a${g}`))
  t.acquire('db', 'b', (g) => got.push(`b${g}`))
  t.acquire('db', 'c', (g) => got.push(`c${g}`))
  expect(got).toEqual(['atrue'])
  t.release('db', 'a')
  expect(got).toEqual(['atrue', 'btrue'])
  now = 600
  t.sweep()
  expect(got).toEqual(['atrue', 'btrue', 'cfalse'])
  now = 1200
  t.sweep()
  expect(t.holder('db')).toBeUndefined()
  t.acquire('db', 'd', (g) => got.push(`d${g}`))
  t.acquire('db', 'e', (g) => got.push(`e${g}`))
  t.retryWaiters()
  expect(got.slice(-2)).toEqual(['dtrue', 'efalse'])
  expect(t.holder('db')).toBe('d')
  t.acquire('db', 'd', (g) => got.push(`again${g}`))
  expect(got.at(-1)).toBe('againtrue')
  t.acquire('db', 'f', (g) => got.push(`f${g}`))
  t.dropHolders((token) => token === 'd')
  expect(got.at(-1)).toBe('ftrue')
  t.clear()
  expect(t.holder('db')).toBeUndefined()
})

test('banning credits: three blames within the grace period ban; a quiet gap forgives; counting restarts after a ban', () => {
  const credits = new BanningCredits(3, 120_000)
  expect(credits.blame(2, 0)).toBe(false)
  expect(credits.blame(2, 1000)).toBe(false)
  expect(credits.blame(1, 1500)).toBe(false)
  expect(credits.blame(2, 2000)).toBe(true)
  expect(credits.blame(2, 3000)).toBe(false)
  // 120 s without blame: forgiven, so two more blames are not enough.
  expect(credits.blame(2, 123_000)).toBe(false)
  expect(credits.blame(2, 124_000)).toBe(false)
  expect(credits.blame(2, 125_000)).toBe(true)
  expect(credits.blame(1, 200_000)).toBe(false)
})
