// Recovery when a node cannot take part: a client holding a record lock forever keeps its node
// from freezing. The node is left out (the others recover and serve), collects banning credits
// and is banned after three failures; once its lock is released it rejoins at the next recovery.
// Also: junk on the database subject is answered with an error and changes nothing.
import {connect} from '@nats-io/transport-node'
import {waitFor} from '../helpers/wait.js'
import {DbHarness} from './harness.js'

let h: DbHarness

beforeAll(async () => {
  h = await DbHarness.start(3, [{name: 'f.tdb', kind: 'volatile'}])
}, 60_000)

afterAll(async () => {
  await h?.stop()
})

test('malformed requests get an error reply and the node keeps serving', async () => {
  const nc = await connect({servers: h.servers[0]!.url})
  try {
    for (const junk of [Buffer.from('junk'), Buffer.from([4, 0, 0, 0, 0x7b, 0x7d]), Buffer.from([200, 0, 0, 0, 1, 2])]) {
      const reply = await nc.request(`ctdbctl.${h.cluster}.db.node.1`, junk, {timeout: 5000})
      expect(reply.data.toString()).toMatch(/"ok":false/)
    }
    const frame = (head: object) => {
      const json = Buffer.from(JSON.stringify(head))
      const len = Buffer.alloc(4)
      len.writeUInt32LE(json.length)
      return Buffer.concat([len, json])
    }
    for (const head of [{op: 'nope'}, {op: 'push', db: 'f.tdb', gen: 'x'}, {op: 'migrate', db: 'f.tdb', kind: 'volatile', gen: -1, to: 0}, {op: 'attach', name: '../x', kind: 'volatile'}]) {
      const reply = await nc.request(`ctdbctl.${h.cluster}.db.node.1`, frame(head), {timeout: 5000})
      expect(reply.data.toString()).toMatch(/"ok":false/)
    }
  } finally {
    await nc.close()
  }
  const r = await h.svc(1).fetchLock('o', 'f.tdb', Buffer.from('still'))
  h.svc(1).release('o', r.handle)
})

test('a node that cannot freeze is left out, banned after three failed recoveries, and rejoins later', async () => {
  const held = await h.svc(2).fetchLock('stuck', 'f.tdb', Buffer.from('held'))
  const leader = h.svc(0)
  leader.update({leader: true, leaderPnn: 0, quorate: true, generation: 100, participants: [0, 1, 2], lmasterCapable: () => true})
  // The first attempt waits for node 2's freeze (10 s), then the others recover without it.
  const first = await waitFor('a recovery without node 2', () => (leader.lastRecovery?.excluded.includes(2) ? leader.lastRecovery : undefined), 40_000, 50)
  expect(first.participants).toEqual([0, 1])
  expect(h.svc(0).frozen || h.svc(1).frozen).toBe(false)
  expect(h.svc(2).frozen).toBe(true)
  // Nodes 0 and 1 serve meanwhile.
  const r = await h.svc(1).fetchLock('o', 'f.tdb', Buffer.from('k'))
  h.svc(1).release('o', r.handle)
  await waitFor('node 2 banned', () => (h.bans.includes(2) ? true : undefined), 60_000, 100)
  h.svc(2).release('stuck', held.handle)
  await waitFor('node 2 back in a recovery', () => (leader.lastRecovery?.participants.includes(2) && !h.svc(2).frozen ? true : undefined), 40_000, 50)
  const again = await h.svc(2).fetchLock('o', 'f.tdb', Buffer.from('k'))
  h.svc(2).release('o', again.handle)
}, 150_000)

test('a leader that loses leadership mid-recovery does not thaw what it merged without the others', async () => {
  const held = await h.svc(2).fetchLock('stuck2', 'f.tdb', Buffer.from('held-again'))
  const leader = h.svc(0)
  const before = leader.lastRecovery
  const view = {leader: true, leaderPnn: 0, quorate: true, generation: 300, participants: [0, 1, 2], lmasterCapable: () => true}
  leader.update(view)
  // Node 2 cannot freeze (10 s); meanwhile node 0 stops being the leader.
  await waitFor('node 1 frozen by the recovery', () => (h.svc(1).frozen ? true : undefined), 10_000, 20)
  leader.update({...view, leader: false, leaderPnn: -1})
  await new Promise((r) => setTimeout(r, 14_000))
  expect(leader.lastRecovery).toBe(before)
  expect(h.svc(1).frozen).toBe(true)
  // Leader again: the next recovery thaws the nodes it includes.
  h.svc(2).release('stuck2', held.handle)
  leader.update({...view, generation: 301})
  await waitFor('a completed recovery', () => (leader.lastRecovery !== before && !h.svc(1).frozen ? true : undefined), 40_000, 50)
}, 90_000)
