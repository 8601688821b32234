// IpReconciler against the in-memory fake driver: passes, drift repair, callbacks, the
// announcement schedule, error handling and the loop.
import {jest} from '@jest/globals'
import type {PublicAddress} from '../../src/config/model.js'
import {FakeIpDriver, type FakeCall} from '../../src/reconciler/drivers/fake-driver.js'
import {IpReconciler, type IpEvent, type IpLogger, type IpMoveEvent, type IpReconcilerOptions} from '../../src/reconciler/ip/reconciler.js'
import {waitFor} from '../helpers/wait.js'

const pa = (cidr: string, interfaces: string[]): PublicAddress => {
  const [address, bits] = cidr.split('/')
  return {address, prefixLength: Number(bits), family: address.includes(':') ? 6 : 4, interfaces}
}
const PUBLIC = [pa('10.0.1.101/24', ['eth1', 'eth2']), pa('10.0.1.102/24', ['eth1', 'eth2']), pa('fd00:1::10/64', ['eth1'])]

function logger() {
  const lines: {level: string; msg: string}[] = []
  const at = (level: string) => (obj: unknown, msg?: string) => {
    lines.push({level, msg: msg ?? String(obj)})
  }
  return {lines, log: {debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error')} as unknown as IpLogger}
}

function setup(options: Partial<IpReconcilerOptions> = {}) {
  const driver = new FakeIpDriver([
    {name: 'eth0', addresses: ['10.0.0.1/24']},
    {name: 'eth1', addresses: ['fe80::1/64']},
    {name: 'eth2'},
  ])
  const events: string[] = []
  const {lines, log} = logger()
  const r = new IpReconciler({
    driver,
    publicAddresses: PUBLIC,
    intervalMs: 10,
    announce: {takeIntervalMs: 30, moveIntervalMs: 20},
    logger: log,
    onTaken: (e: IpEvent) => void events.push(`taken ${e.address} ${e.interface}`),
    onReleased: (e: IpEvent) => void events.push(`released ${e.address} ${e.interface}`),
    onMoved: (e: IpMoveEvent) => void events.push(`moved ${e.address} ${e.from}->${e.interface} ${e.reason}`),
    ...options,
  })
  return {driver, r, events, lines}
}

const mutations = (d: FakeIpDriver) => d.calls.filter((c): c is Extract<FakeCall, {op: 'addAddress' | 'removeAddress'}> => c.op === 'addAddress' || c.op === 'removeAddress')

let current: IpReconciler | undefined
afterEach(async () => {
  await current?.stop()
  current = undefined
})

test('a pass adds the desired addresses, reports them, and a second pass does nothing', async () => {
  const {driver, r, events} = setup()
  current = r
  r.setDesired(['10.0.1.101', '10.0.1.102'])
  const first = await r.pass()
  expect(first.ok).toBe(true)
  expect(first.taken).toEqual(['10.0.1.101', '10.0.1.102'])
  expect(first.held).toEqual([
    {address: '10.0.1.101', prefixLength: 24, family: 4, interface: 'eth1', linkUp: true},
    {address: '10.0.1.102', prefixLength: 24, family: 4, interface: 'eth2', linkUp: true},
  ])
  expect(first.interfaces).toEqual([
    {name: 'eth1', up: true, present: true, references: 1},
    {name: 'eth2', up: true, present: true, references: 1},
  ])
  expect(events).toEqual(['taken 10.0.1.101 eth1', 'taken 10.0.1.102 eth2'])
  expect(driver.addressesOn()).toEqual(expect.arrayContaining(['10.0.0.1/24', 'fe80::1/64', '10.0.1.101/24', '10.0.1.102/24']))

  const before = mutations(driver).length
  const second = await r.pass()
  expect(second.actions).toEqual([])
  expect(second.taken).toEqual([])
  expect(second.held).toEqual(first.held)
  expect(mutations(driver).length).toBe(before)
  expect(events).toHaveLength(2)
})

test('a take is announced three times on its interface, CTDB take interval apart', async () => {
  const {driver, r} = setup()
  current = r
  r.setDesired(['10.0.1.101'])
  await r.pass()
  await waitFor('three announcements', () => (driver.callsOf('announce').length >= 3 ? true : undefined), 2000, 5)
  await new Promise((res) => setTimeout(res, 80))
  const sent = driver.callsOf('announce')
  expect(sent).toHaveLength(3)
  for (const c of sent) expect(c.args).toEqual({address: '10.0.1.101', family: 4, interface: 'eth1'})
  expect(sent[1].at - sent[0].at).toBeGreaterThanOrEqual(25)
  expect(sent[2].at - sent[1].at).toBeGreaterThanOrEqual(25)
})

test('onAnnounce runs after each round with its number', async () => {
  const rounds: number[] = []
  const {r} = setup({onAnnounce: (e) => void rounds.push(e.round)})
  current = r
  r.setDesired(['fd00:1::10'])
  await r.pass()
  await waitFor('three rounds', () => (rounds.length === 3 ? true : undefined), 2000, 5)
  expect(rounds).toEqual([0, 1, 2])
})

test('onAnnounce says whether it announces a take or a move between interfaces', async () => {
  const seen: string[] = []
  const {driver, r} = setup({onAnnounce: (e) => void seen.push(`${e.after} ${e.round} ${e.interface}`)})
  current = r
  r.setDesired(['10.0.1.101'])
  await r.pass()
  await waitFor('take rounds', () => (seen.length === 3 ? true : undefined), 2000, 5)
  driver.setLink('eth1', false)
  await r.pass()
  await waitFor('move rounds', () => (seen.length === 6 ? true : undefined), 2000, 5)
  expect(seen).toEqual(['take 0 eth1', 'take 1 eth1', 'take 2 eth1', 'move 0 eth2', 'move 1 eth2', 'move 2 eth2'])
})

test('beforeRelease runs (awaited) before a released address is removed, and not for other removals', async () => {
  const order: string[] = []
  const {driver, r} = setup({
    beforeRelease: async (e) => {
      order.push(`before ${e.address} ${e.interface} held=${driver.addressesOn('eth1').some((a) => a.startsWith('10.0.1.101/'))}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    },
    onReleased: (e) => void order.push(`released ${e.address}`),
  })
  current = r
  r.setDesired(['10.0.1.101'])
  await r.pass()
  driver.hostAdd('eth2', '10.0.1.101/24') // a duplicate copy: removed, but not a release
  await r.pass()
  expect(order).toEqual([])
  r.setDesired([])
  await r.pass()
  expect(order).toEqual(['before 10.0.1.101 eth1 held=true', 'released 10.0.1.101'])
})

test('a failing beforeRelease is logged and the release goes on', async () => {
  const {driver, r, lines} = setup({beforeRelease: () => Promise.reject(new Error('boom'))})
  current = r
  r.setDesired(['10.0.1.101'])
  await r.pass()
  r.setDesired([])
  const res = await r.pass()
  expect(res.released).toEqual(['10.0.1.101'])
  expect(driver.addressesOn('eth1').some((a) => a.startsWith('10.0.1.101/'))).toBe(false)
  expect(lines.some((l) => l.level === 'warn' && /beforeRelease callback failed/.test(l.msg))).toBe(true)
})

test('a release removes the address, calls onReleased and cancels the pending announcements', async () => {
  const {driver, r, events} = setup({announce: {takeIntervalMs: 200}})
  current = r
  r.setDesired(['10.0.1.101'])
  await r.pass()
  r.setDesired([])
  const res = await r.pass()
  expect(res.released).toEqual(['10.0.1.101'])
  expect(res.held).toEqual([])
  expect(events).toEqual(['taken 10.0.1.101 eth1', 'released 10.0.1.101 eth1'])
  await new Promise((res) => setTimeout(res, 500))
  expect(driver.callsOf('announce')).toHaveLength(1)
})

test('drift: an address removed by hand comes back in one pass, and is taken (and announced) again', async () => {
  const {driver, r, events} = setup()
  current = r
  r.setDesired(['10.0.1.101'])
  await r.pass()
  driver.hostRemove('eth1', '10.0.1.101')
  const res = await r.pass()
  expect(res.taken).toEqual(['10.0.1.101'])
  expect(driver.addressesOn('eth1')).toContain('10.0.1.101/24')
  expect(events).toEqual(['taken 10.0.1.101 eth1', 'taken 10.0.1.101 eth1'])
})

test('drift: a public address added by hand on a managed interface is removed; other addresses are left alone', async () => {
  const {driver, r, events} = setup()
  current = r
  await r.pass()
  driver.hostAdd('eth2', '10.0.1.102/24')
  driver.hostAdd('eth2', '192.168.7.7/24')
  driver.hostAdd('eth0', '10.0.1.101/24')
  const res = await r.pass()
  expect(res.released).toEqual(['10.0.1.102'])
  expect(events).toEqual(['released 10.0.1.102 eth2'])
  expect(driver.addressesOn('eth2')).toEqual(['192.168.7.7/24'])
  expect(driver.addressesOn('eth0')).toEqual(['10.0.0.1/24', '10.0.1.101/24'])
  expect(res.foreign).toEqual([{interface: 'eth0', address: '10.0.1.101', prefixLength: 24, family: 4}])
})

test('an interface going down moves its address to the other interface (updateip), announced on the new one', async () => {
  const {driver, r, events} = setup()
  current = r
  r.setDesired(['10.0.1.101'])
  await r.pass()
  await waitFor('take announcements', () => (driver.callsOf('announce').length === 3 ? true : undefined), 2000, 5)
  driver.setLink('eth1', false)
  const res = await r.pass()
  expect(res.moved).toEqual(['10.0.1.101'])
  expect(res.taken).toEqual([])
  expect(res.held).toEqual([{address: '10.0.1.101', prefixLength: 24, family: 4, interface: 'eth2', linkUp: true}])
  expect(events).toEqual(['taken 10.0.1.101 eth1', 'moved 10.0.1.101 eth1->eth2 interface-down'])
  // The move adds on the new interface before removing from the old one.
  expect(
    mutations(driver)
      .slice(-2)
      .map((c) => `${c.op} ${c.args.interface}`),
  ).toEqual(['addAddress eth2', 'removeAddress eth1'])
  await waitFor('move announcements', () => (driver.callsOf('announce').length === 6 ? true : undefined), 2000, 5)
  expect(driver.callsOf('announce').slice(3).map((c) => c.args.interface)).toEqual(['eth2', 'eth2', 'eth2'])
})

test('every interface down: the address is reported unavailable, logged once, nothing is done', async () => {
  const {driver, r, lines} = setup()
  current = r
  driver.setLink('eth1', false)
  r.setDesired(['fd00:1::10'])
  const res = await r.pass()
  expect(res.actions).toEqual([])
  expect(res.unavailable).toEqual([{address: 'fd00:1::10', interfaces: ['eth1'], reason: 'all-interfaces-down'}])
  await r.pass()
  expect(lines.filter((l) => l.level === 'warn' && l.msg.includes('cannot host fd00:1::10'))).toHaveLength(1)
})

test('a failure to read the host is logged and reported, never thrown; the next pass recovers', async () => {
  const {driver, r, lines} = setup()
  current = r
  r.setDesired(['10.0.1.101'])
  driver.failNext('listAddresses', new Error('netlink says no'))
  const bad = await r.pass()
  expect(bad.ok).toBe(false)
  expect(bad.observed).toBe(false)
  expect(bad.errors[0]).toMatch(/netlink says no/)
  expect(lines.some((l) => l.level === 'error' && /netlink says no/.test(l.msg))).toBe(true)
  const good = await r.pass()
  expect(good.ok).toBe(true)
  expect(good.taken).toEqual(['10.0.1.101'])
})

test('a failed add is reported and retried by the next pass', async () => {
  const {driver, r, events} = setup()
  current = r
  r.setDesired(['10.0.1.101'])
  driver.failNext('addAddress', new Error('RTNETLINK answers: Operation not permitted'))
  const bad = await r.pass()
  expect(bad.ok).toBe(false)
  expect(bad.actions).toEqual([expect.objectContaining({ok: false, error: 'RTNETLINK answers: Operation not permitted'})])
  expect(bad.errors[0]).toMatch(/adding 10\.0\.1\.101\/24 to eth1 failed/)
  expect(events).toEqual([])
  const good = await r.pass()
  expect(good.taken).toEqual(['10.0.1.101'])
})

test('a move whose add fails leaves the address where it was', async () => {
  const {driver, r} = setup()
  current = r
  r.setDesired(['10.0.1.101'])
  await r.pass()
  driver.setLink('eth1', false)
  driver.failNext('addAddress')
  const res = await r.pass()
  expect(res.ok).toBe(false)
  expect(res.held).toEqual([{address: '10.0.1.101', prefixLength: 24, family: 4, interface: 'eth1', linkUp: false}])
  expect((await r.pass()).held[0].interface).toBe('eth2')
})

test('a failing callback is logged and does not break the pass', async () => {
  const {r, lines} = setup({
    onTaken: () => {
      throw new Error('event script blew up')
    },
  })
  current = r
  r.setDesired(['10.0.1.101'])
  const res = await r.pass()
  expect(res.ok).toBe(true)
  expect(lines.some((l) => l.level === 'warn' && l.msg.includes('onTaken callback failed'))).toBe(true)
})

test('concurrent passes are serialised and share the queued pass', async () => {
  const {driver, r} = setup()
  current = r
  r.setDesired(['10.0.1.101'])
  let inside = 0
  let overlap = false
  const original = driver.listAddresses.bind(driver)
  driver.listAddresses = async () => {
    inside++
    if (inside > 1) overlap = true
    await new Promise((res) => setTimeout(res, 5))
    inside--
    return original()
  }
  const results = await Promise.all([r.pass(), r.pass(), r.pass()])
  expect(overlap).toBe(false)
  expect(results[0].taken).toEqual(['10.0.1.101'])
  expect(results[1]).toBe(results[2])
  expect(results[1].actions).toEqual([])
})

test('the loop repairs drift by itself and survives driver errors; stop() ends it', async () => {
  const passes = jest.fn()
  const {driver, r} = setup({onPass: passes})
  current = r
  r.setDesired(['10.0.1.101'])
  driver.failNext('linkStates')
  r.start()
  await waitFor('address taken by the loop', () => (driver.addressesOn('eth1').includes('10.0.1.101/24') ? true : undefined), 2000, 5)
  driver.hostRemove('eth1', '10.0.1.101')
  await waitFor('address back', () => (driver.addressesOn('eth1').includes('10.0.1.101/24') ? true : undefined), 2000, 5)
  await r.stop()
  const count = passes.mock.calls.length
  expect(count).toBeGreaterThanOrEqual(3)
  await new Promise((res) => setTimeout(res, 60))
  expect(passes.mock.calls.length).toBe(count)
})

test('releaseAll drops every public address this node holds', async () => {
  const {driver, r} = setup()
  current = r
  r.setDesired(['10.0.1.101', '10.0.1.102', 'fd00:1::10'])
  await r.pass()
  const res = await r.releaseAll()
  expect(res.released.sort()).toEqual(['10.0.1.101', '10.0.1.102', 'fd00:1::10'])
  expect(driver.addressesOn().sort()).toEqual(['10.0.0.1/24', 'fe80::1/64'])
})

test('desired addresses that are not public addresses are reported and ignored', async () => {
  const {r, lines} = setup()
  current = r
  r.setDesired(['10.9.9.9'])
  const res = await r.pass()
  expect(res.unknown).toEqual(['10.9.9.9'])
  expect(res.actions).toEqual([])
  expect(lines.some((l) => l.level === 'warn' && l.msg.includes('10.9.9.9'))).toBe(true)
})

test('a driver that throws synchronously never breaks a pass or the announcement timers', async () => {
  const {driver, r, lines} = setup()
  current = r
  driver.announce = () => {
    throw new Error('no raw sockets here')
  }
  r.setDesired(['10.0.1.101'])
  const res = await r.pass()
  expect(res.ok).toBe(true)
  await waitFor('the announce failures to be logged', () => (lines.filter((l) => l.msg.includes('no raw sockets here')).length === 3 ? true : undefined), 2000, 5)
})

test('a move whose removal from the old interface fails is still announced; the next pass removes the copy', async () => {
  const {driver, r, events} = setup()
  current = r
  r.setDesired(['10.0.1.101'])
  await r.pass()
  driver.setLink('eth1', false)
  driver.failNext('removeAddress')
  const res = await r.pass()
  expect(res.ok).toBe(false)
  expect(res.moved).toEqual(['10.0.1.101'])
  expect(events).toContain('moved 10.0.1.101 eth1->eth2 interface-down')
  expect(res.held.map((h) => h.interface)).toEqual(['eth1', 'eth2'])
  const next = await r.pass()
  expect(next.actions.map((o) => `${o.action.kind} ${o.action.reason} ${o.ok}`)).toEqual(['remove duplicate true'])
  expect(next.held.map((h) => h.interface)).toEqual(['eth2'])
})
