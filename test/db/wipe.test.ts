// Wiping a database while clients use it (3 in-process database services over a real
// nats-server): a volatile wipe waits for held record locks; a persistent wipe takes the
// transaction lock, so commits racing with it leave every node with the same copy.
import {DbHarness} from './harness.js'

const b = (s: string) => Buffer.from(s)
let h: DbHarness

beforeAll(async () => {
  h = await DbHarness.start(3, [
    {name: 'w-vol.tdb', kind: 'volatile'},
    {name: 'w-per.tdb', kind: 'persistent'},
  ])
}, 60_000)
afterAll(async () => {
  await h?.stop()
})

test('a volatile wipe waits for a held record lock; what that client stored is wiped too', async () => {
  const r = await h.svc(1).fetchLock('holder', 'w-vol.tdb', b('busy'))
  let wiped = false
  const wipe = h.svc(0).wipe('w-vol.tdb').then(() => (wiped = true))
  await new Promise((res) => setTimeout(res, 300))
  expect(wiped).toBe(false)
  await h.svc(1).store('holder', r.handle, b('stored while wiping'), true)
  await wipe
  for (const p of [0, 1, 2]) expect(await h.svc(p).localRecord('w-vol.tdb', b('busy'))).toBeUndefined()
  // New fetch-locks work again afterwards.
  const again = await h.svc(2).fetchLock('later', 'w-vol.tdb', b('busy'))
  expect(again.data).toBeUndefined()
  h.svc(2).release('later', again.handle)
}, 60_000)

test('commits racing with persistent wipes: every node ends with the same copy and sequence number', async () => {
  let stop = false
  let commits = 0
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      const tx = await h.svc(1).transactionStart('w', 'w-per.tdb')
      h.svc(1).transactionPut('w', tx, b(`k${i % 20}`), b(`v${i}`))
      await h.svc(1).transactionCommit('w', tx)
      commits++
    }
  })()
  for (let i = 0; i < 5; i++) {
    await new Promise((res) => setTimeout(res, 40))
    await h.svc(i % 2 === 0 ? 0 : 2).wipe('w-per.tdb')
  }
  stop = true
  await writer
  expect(commits).toBeGreaterThan(5)
  const digests = await Promise.all([0, 1, 2].map((p) => h.svc(p).digest('w-per.tdb')))
  expect(new Set(digests).size).toBe(1)
  const seqnums = await Promise.all([0, 1, 2].map(async (p) => (await h.svc(p).localRecord('w-per.tdb', Buffer.from('__db_sequence_number__\0', 'latin1')))?.data.toString('hex')))
  expect(new Set(seqnums).size).toBe(1)
}, 60_000)
