// Compare-and-set on a replicated KV key (src/protocol/kv-cas.ts) against a real 3-server
// JetStream cluster: concurrent writers expecting one revision, from connections to different
// servers, never both win. (Plain expected-last-sequence writes do not give this on clustered
// nats-server 2.9: all of them were stored in almost every round when measured.)
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {jetstream} from '@nats-io/jetstream'
import {Kvm, type KV} from '@nats-io/kv'
import {startNatsServers, stopNatsServers, type NatsServerHandle} from '../../src/dev/nats-servers.js'
import {CasLostError, casWrite, isWrongLastSequence, revisionInError} from '../../src/protocol/kv-cas.js'

let dir: string
let servers: NatsServerHandle[] = []
let conns: NatsConnection[] = []
let kv: KV

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-kv-cas-'))
  servers = await startNatsServers({count: 3, dir})
  conns = await Promise.all(servers.map((s) => connect({servers: [s.url]})))
  kv = await new Kvm(conns[0]).create('cas_test', {replicas: 3, history: 1, allow_direct: false})
}, 60_000)

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)))
  await stopNatsServers(servers)
  rmSync(dir, {recursive: true, force: true})
})

const lostRace = (e: unknown) => e instanceof CasLostError || isWrongLastSequence(e)

test('six concurrent writers over three servers expecting the same revision: exactly one wins, 100 rounds', async () => {
  const clients = conns.map((c) => jetstream(c))
  for (let round = 0; round < 100; round++) {
    const before = (await kv.get('k'))?.revision ?? 0
    const results = await Promise.allSettled(clients.flatMap((js, i) => [0, 1].map((j) => casWrite(js, 'cas_test', 'k', `w${round}.${i}.${j}`, before))))
    const won = results.filter((r): r is PromiseFulfilledResult<number> => r.status === 'fulfilled')
    expect(won).toHaveLength(1)
    for (const r of results) if (r.status === 'rejected') expect(lostRace(r.reason)).toBe(true)
    const after = await kv.get('k')
    expect(after?.revision).toBe(won[0].value)
  }
}, 120_000)

test('a delete expecting revision R and a take expecting R: only one of them', async () => {
  const js = conns.map((c) => jetstream(c))
  for (let round = 0; round < 30; round++) {
    const rev = (await kv.get('d'))?.revision ?? 0
    const base = rev === 0 ? await casWrite(js[0], 'cas_test', 'd', 'holder', 0) : rev
    const [del, take] = await Promise.allSettled([casWrite(js[1], 'cas_test', 'd', '', base, {delete: true}), casWrite(js[2], 'cas_test', 'd', 'taker', base)])
    expect([del.status, take.status].filter((s) => s === 'fulfilled')).toHaveLength(1)
    const entry = await kv.get('d')
    if (del.status === 'fulfilled') expect(entry?.operation).toBe('DEL')
    else expect(entry?.string()).toBe('taker')
  }
}, 60_000)

test('a stale expected revision is refused', async () => {
  const js = jetstream(conns[1])
  const rev = await casWrite(js, 'cas_test', 's', 'a', 0)
  await casWrite(js, 'cas_test', 's', 'b', rev)
  const refused: unknown = await casWrite(js, 'cas_test', 's', 'c', rev).then(() => undefined, (e: unknown) => e)
  expect(lostRace(refused)).toBe(true)
  // The refusal names the key's actual revision: contenders learn it even when reads are stale.
  expect(revisionInError(refused)).toBe((await kv.get('s'))!.revision)
})
