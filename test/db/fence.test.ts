// A node cut off from the majority serves nothing until a recovery that includes it: an
// isolated node must not commit alone (the chaos suite caught one acknowledging commits the
// majority never saw).
import {DbHarness} from './harness.js'

let h: DbHarness

beforeAll(async () => {
  h = await DbHarness.start(3, [{name: 'fence.tdb', kind: 'persistent'}, {name: 'fence-v.tdb', kind: 'volatile'}])
}, 60_000)

afterAll(async () => {
  await h?.stop()
})

const b = (s: string) => Buffer.from(s)
const pending = Symbol('pending')
const settledWithin = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<typeof pending>((r) => setTimeout(() => r(pending), ms))])

test('a fenced node neither commits nor reads until the leader recovers it; then the waiting commit lands everywhere', async () => {
  const isolated = h.svc(2)
  // A volatile record this node is data master of: fenced, it must not hand it out.
  const mine = await isolated.fetchLock('o2', 'fence-v.tdb', b('r'))
  await isolated.store('o2', mine.handle, b('1'))
  isolated.release('o2', mine.handle)
  isolated.update({leader: false, leaderPnn: -1, quorate: false, generation: 1, participants: [2], lmasterCapable: () => true})

  const commit = (async () => {
    const tx = await isolated.transactionStart('o2', 'fence.tdb')
    isolated.transactionPut('o2', tx, b('k'), b('v'))
    return isolated.transactionCommit('o2', tx)
  })()
  const read = isolated.fetch('fence.tdb', b('k'))
  const locked = isolated.fetchLock('o2', 'fence-v.tdb', b('r'))
  // Nothing to wait for: the point is that neither completes while the node is fenced.
  expect(await settledWithin(commit, 1500)).toBe(pending)
  expect(await settledWithin(read, 10)).toBe(pending)
  expect(await settledWithin(locked, 10)).toBe(pending)
  for (const p of [0, 1]) expect((await h.svc(p).fetch('fence.tdb', b('k'))).data).toBeUndefined()

  // Back in sight of the majority: it asks leader 0, whose recovery thaws it.
  const before = h.svc(0).lastRecovery
  // The daemon reports its view on every evaluation; so does the test, in case one ask is lost under load.
  const back = () => isolated.update({leader: false, leaderPnn: 0, quorate: true, generation: 1, participants: [0, 1, 2], lmasterCapable: () => true})
  back()
  const evaluations = setInterval(back, 500)
  try {
    expect((await commit).seqnum).toBe(1)
  } finally {
    clearInterval(evaluations)
  }
  isolated.release('o2', (await locked).handle)
  expect(h.svc(0).lastRecovery).not.toBe(before)
  for (const p of [0, 1, 2]) expect((await h.svc(p).fetch('fence.tdb', b('k'))).data?.toString()).toBe('v')
}, 60_000)
