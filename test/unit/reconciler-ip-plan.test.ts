// The pure IP planner: every rule of plan.ts, plus convergence properties.
import fc from 'fast-check'
import type {PublicAddress} from '../../src/config/model.js'
import {bestInterface, planIp, type IpAction, type IpPlanInput, type LinkState, type ObservedAddress} from '../../src/reconciler/ip/plan.js'

const pa = (cidr: string, interfaces: string[]): PublicAddress => {
  const [address, bits] = cidr.split('/')
  return {address, prefixLength: Number(bits), family: address.includes(':') ? 6 : 4, interfaces}
}
const on = (iface: string, cidr: string): ObservedAddress => {
  const [address, bits] = cidr.split('/')
  return {interface: iface, address, prefixLength: Number(bits)}
}
const links = (spec: Record<string, boolean>): LinkState[] => Object.entries(spec).map(([name, up]) => ({name, up}))
const brief = (actions: IpAction[]) =>
  actions.map((a) => (a.kind === 'move' ? `move ${a.address} ${a.from}->${a.to} ${a.reason}` : `${a.kind} ${a.address}/${a.prefixLength} ${a.interface} ${a.reason}`))

/** The host after every action succeeded. */
function apply(input: IpPlanInput, actions: IpAction[]): ObservedAddress[] {
  let out = [...input.observed]
  const drop = (address: string, prefixLength: number, iface: string) => {
    out = out.filter((o) => !(o.address === address && o.prefixLength === prefixLength && o.interface === iface))
  }
  for (const a of actions) {
    if (a.kind === 'remove') drop(a.address, a.prefixLength, a.interface)
    else if (a.kind === 'add') out.push({interface: a.interface, address: a.address, prefixLength: a.prefixLength})
    else {
      drop(a.address, a.prefixLength, a.from)
      out.push({interface: a.to, address: a.address, prefixLength: a.prefixLength})
    }
  }
  return out
}

const A = pa('10.0.1.101/24', ['eth1', 'eth2'])
const B = pa('10.0.1.102/24', ['eth1', 'eth2'])
const C = pa('10.0.1.103/24', ['eth1', 'eth2'])
const D = pa('10.0.1.104/24', ['eth1', 'eth2'])
const E = pa('10.0.2.105/24', ['eth3'])
const V6 = pa('fd00:1::10/64', ['eth1'])
const all = [A, B, C, D, E, V6]
const up = links({eth0: true, eth1: true, eth2: true, eth3: true, lo: true})

describe('interface choice (ctdb_vnn_best_iface)', () => {
  test('the first configured interface wins a tie', () => {
    expect(bestInterface(['eth2', 'eth1'], () => true, () => 0)).toBe('eth2')
    expect(bestInterface(['eth1', 'eth2'], () => true, () => 0)).toBe('eth1')
  })

  test('the up interface with the fewest references wins; down interfaces never', () => {
    const refs: Record<string, number> = {eth1: 2, eth2: 1, eth3: 0}
    expect(bestInterface(['eth1', 'eth2', 'eth3'], (n) => n !== 'eth3', (n) => refs[n])).toBe('eth2')
    expect(bestInterface(['eth1', 'eth2'], () => false, () => 0)).toBeUndefined()
  })

  test('a take goes to the first interface when both are empty, then alternates by references', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.0.1.101', '10.0.1.102', '10.0.1.103'], observed: [], links: up})
    expect(brief(plan.actions)).toEqual(['add 10.0.1.101/24 eth1 take', 'add 10.0.1.102/24 eth2 take', 'add 10.0.1.103/24 eth1 take'])
    expect(plan.expected).toEqual([
      {address: '10.0.1.101', interface: 'eth1'},
      {address: '10.0.1.102', interface: 'eth2'},
      {address: '10.0.1.103', interface: 'eth1'},
    ])
  })

  test('references count the public addresses already held, node addresses do not count', () => {
    const plan = planIp({
      publicAddresses: all,
      desired: ['10.0.1.101', '10.0.1.102'],
      observed: [on('eth1', '10.0.1.101/24'), on('eth2', '10.0.1.1/24'), on('eth2', '10.0.1.2/24')],
      links: up,
    })
    expect(brief(plan.actions)).toEqual(['add 10.0.1.102/24 eth2 take'])
  })

  test('an interface that is down, or missing from the host, is skipped', () => {
    const down = planIp({publicAddresses: all, desired: ['10.0.1.101'], observed: [], links: links({eth1: false, eth2: true})})
    expect(brief(down.actions)).toEqual(['add 10.0.1.101/24 eth2 take'])
    const missing = planIp({publicAddresses: all, desired: ['10.0.1.101'], observed: [], links: links({eth2: true})})
    expect(brief(missing.actions)).toEqual(['add 10.0.1.101/24 eth2 take'])
    expect(missing.interfaces.find((i) => i.name === 'eth1')).toEqual({name: 'eth1', up: false, present: false, references: 0})
  })
})

describe('held addresses', () => {
  test('an address held on a good interface stays (no action: idempotent)', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.0.1.101'], observed: [on('eth2', '10.0.1.101/24')], links: up})
    expect(plan.actions).toEqual([])
    expect(plan.expected).toEqual([{address: '10.0.1.101', interface: 'eth2'}])
  })

  test('its interface went down: moved to the best up interface', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.0.1.101'], observed: [on('eth1', '10.0.1.101/24')], links: links({eth1: false, eth2: true})})
    expect(brief(plan.actions)).toEqual(['move 10.0.1.101 eth1->eth2 interface-down'])
    expect(plan.actions[0]).toMatchObject({prefixLength: 24, family: 4})
  })

  test('every interface down: reported unavailable and left where it is', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.0.1.101', '10.0.1.102'], observed: [on('eth1', '10.0.1.101/24')], links: links({eth1: false, eth2: false})})
    expect(plan.actions).toEqual([])
    expect(plan.unavailable).toEqual([
      {address: '10.0.1.101', interfaces: ['eth1', 'eth2'], reason: 'all-interfaces-down', heldOn: 'eth1'},
      {address: '10.0.1.102', interfaces: ['eth1', 'eth2'], reason: 'all-interfaces-down'},
    ])
    expect(plan.expected).toEqual([{address: '10.0.1.101', interface: 'eth1'}])
  })

  test('rebalance: moved when its interface has more than best + 1 references', () => {
    // eth1 holds A, B, C; eth2 nothing: 3 > 0 + 1 moves A (→ 2/1), then B: 2 > 1 + 1 is false.
    const plan = planIp({
      publicAddresses: all,
      desired: ['10.0.1.101', '10.0.1.102', '10.0.1.103'],
      observed: [on('eth1', '10.0.1.101/24'), on('eth1', '10.0.1.102/24'), on('eth1', '10.0.1.103/24')],
      links: up,
    })
    expect(brief(plan.actions)).toEqual(['move 10.0.1.101 eth1->eth2 rebalance'])
  })

  test('rebalance: not moved when the difference is one', () => {
    const observed = [on('eth1', '10.0.1.101/24'), on('eth1', '10.0.1.102/24'), on('eth2', '10.0.1.103/24')]
    const plan = planIp({publicAddresses: all, desired: ['10.0.1.101', '10.0.1.102', '10.0.1.103'], observed, links: up})
    expect(plan.actions).toEqual([])
    // Two on one interface and none on the other is a difference of two: one moves.
    const two = planIp({publicAddresses: all, desired: ['10.0.1.101', '10.0.1.102'], observed: observed.slice(0, 2), links: up})
    expect(brief(two.actions)).toEqual(['move 10.0.1.101 eth1->eth2 rebalance'])
  })

  test('an interface coming back up takes half of the addresses back', () => {
    const observed = [A, B, C, D].map((p) => on('eth1', `${p.address}/24`))
    const plan = planIp({publicAddresses: all, desired: [A, B, C, D].map((p) => p.address), observed, links: up})
    expect(brief(plan.actions)).toEqual(['move 10.0.1.101 eth1->eth2 rebalance', 'move 10.0.1.102 eth1->eth2 rebalance'])
    expect(plan.interfaces.filter((i) => i.name !== 'eth3')).toEqual([
      {name: 'eth1', up: true, present: true, references: 2},
      {name: 'eth2', up: true, present: true, references: 2},
    ])
  })
})

describe('removals', () => {
  test('an address this node should not hold is removed from every managed interface', () => {
    const plan = planIp({
      publicAddresses: all,
      desired: [],
      observed: [on('eth1', '10.0.1.101/24'), on('eth2', '10.0.1.101/24'), on('eth3', '10.0.1.102/24')],
      links: up,
    })
    // eth3 is not an interface of 10.0.1.102 but it is managed (E uses it): removed too.
    expect(brief(plan.actions)).toEqual(['remove 10.0.1.101/24 eth1 release', 'remove 10.0.1.101/24 eth2 release', 'remove 10.0.1.102/24 eth3 release'])
  })

  test('removal uses the prefix length found on the host', () => {
    const plan = planIp({publicAddresses: all, desired: [], observed: [on('eth1', '10.0.1.101/32')], links: up})
    expect(brief(plan.actions)).toEqual(['remove 10.0.1.101/32 eth1 release'])
  })

  test('an address on a down interface is removed too when not desired', () => {
    const plan = planIp({publicAddresses: all, desired: [], observed: [on('eth1', '10.0.1.101/24')], links: links({eth1: false})})
    expect(brief(plan.actions)).toEqual(['remove 10.0.1.101/24 eth1 release'])
  })

  test('a desired address on a managed interface that is not one of its own: removed there, added on its own', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.0.2.105'], observed: [on('eth1', '10.0.2.105/24')], links: up})
    expect(brief(plan.actions)).toEqual(['remove 10.0.2.105/24 eth1 wrong-interface', 'add 10.0.2.105/24 eth3 take'])
  })

  test('a desired address with the wrong prefix length is replaced', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.0.1.101'], observed: [on('eth2', '10.0.1.101/32')], links: up})
    expect(brief(plan.actions)).toEqual(['remove 10.0.1.101/32 eth2 wrong-prefix', 'add 10.0.1.101/24 eth1 take'])
  })

  test('held on two of its interfaces: the copy on an up interface stays', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.0.1.101'], observed: [on('eth1', '10.0.1.101/24'), on('eth2', '10.0.1.101/24')], links: links({eth1: false, eth2: true})})
    expect(brief(plan.actions)).toEqual(['remove 10.0.1.101/24 eth1 duplicate'])
  })

  test('held on two up interfaces: the copy on the earlier interface of its list stays', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.0.1.101'], observed: [on('eth2', '10.0.1.101/24'), on('eth1', '10.0.1.101/24')], links: up})
    expect(brief(plan.actions)).toEqual(['remove 10.0.1.101/24 eth2 duplicate'])
  })

  test('removals free references before interfaces are chosen', () => {
    // eth1 holds B and C, which go; A then goes to eth1 (earlier in its list), not eth2.
    const plan = planIp({
      publicAddresses: all,
      desired: ['10.0.1.101'],
      observed: [on('eth1', '10.0.1.102/24'), on('eth1', '10.0.1.103/24')],
      links: up,
    })
    expect(brief(plan.actions)).toEqual(['remove 10.0.1.102/24 eth1 release', 'remove 10.0.1.103/24 eth1 release', 'add 10.0.1.101/24 eth1 take'])
  })
})

describe('what is never touched', () => {
  test('node addresses, link-local addresses and other non-public addresses', () => {
    const observed = [on('eth0', '10.0.0.1/24'), on('eth1', '10.0.1.1/24'), on('eth1', 'fe80::1/64'), on('lo', '127.0.0.1/8'), on('eth2', '192.168.9.9/16')]
    const plan = planIp({publicAddresses: all, desired: [], observed, links: up})
    expect(plan.actions).toEqual([])
    expect(plan.foreign).toEqual([])
  })

  test('a public address on an interface no public address uses is foreign and left alone', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.0.1.101'], observed: [on('eth0', '10.0.1.101/24'), on('lo', '10.0.1.102/32')], links: up})
    expect(brief(plan.actions)).toEqual(['add 10.0.1.101/24 eth1 take'])
    expect(plan.foreign).toEqual([on('eth0', '10.0.1.101/24'), on('lo', '10.0.1.102/32')])
  })

  test('desired addresses that are not public addresses of the config are reported and ignored', () => {
    const plan = planIp({publicAddresses: all, desired: ['10.9.9.9', 'nonsense'], observed: [], links: up})
    expect(plan.actions).toEqual([])
    expect(plan.unknown).toEqual(['10.9.9.9', 'nonsense'])
  })
})

describe('IPv6 and spelling', () => {
  test('addresses compare in canonical form', () => {
    const plan = planIp({publicAddresses: all, desired: ['FD00:1:0::10'], observed: [on('eth1', 'fd00:1:0:0::10/64')], links: up})
    expect(plan.actions).toEqual([])
    expect(plan.expected).toEqual([{address: 'fd00:1::10', interface: 'eth1'}])
  })

  test('an IPv6 take carries its family and prefix', () => {
    const plan = planIp({publicAddresses: all, desired: ['fd00:1::10'], observed: [], links: up})
    expect(plan.actions).toEqual([{kind: 'add', address: 'fd00:1::10', prefixLength: 64, family: 6, interface: 'eth1', reason: 'take'}])
  })
})

test('actions come as removals, then moves, then additions', () => {
  const plan = planIp({
    publicAddresses: all,
    desired: ['10.0.1.101', '10.0.1.103'],
    observed: [on('eth1', '10.0.1.101/24'), on('eth1', '10.0.1.102/24')],
    links: links({eth1: false, eth2: true}),
  })
  expect(brief(plan.actions)).toEqual(['remove 10.0.1.102/24 eth1 release', 'move 10.0.1.101 eth1->eth2 interface-down', 'add 10.0.1.103/24 eth2 take'])
})

describe('properties', () => {
  const ifaces = ['eth1', 'eth2', 'eth3', 'eth9']
  const pool = [A, B, C, D, E, V6]
  const nonPublic = [on('eth1', '10.0.1.1/24'), on('eth2', '10.0.1.2/24'), on('eth1', 'fe80::1/64')]
  const arbState = fc.record({
    desired: fc.subarray(pool.map((p) => p.address)),
    // A host has each (interface, address, prefix) at most once.
    observed: fc.uniqueArray(
      fc.record({p: fc.constantFrom(...pool), iface: fc.constantFrom(...ifaces), wrongPrefix: fc.boolean()}).map(({p, iface, wrongPrefix}) => on(iface, `${p.address}/${wrongPrefix ? (p.family === 4 ? 32 : 128) : p.prefixLength}`)),
      {maxLength: 10, selector: (o) => `${o.interface} ${o.address}/${o.prefixLength}`},
    ),
    up: fc.record({eth1: fc.boolean(), eth2: fc.boolean(), eth3: fc.boolean(), eth9: fc.boolean()}),
  })

  test('one pass converges: planning again after acting finds nothing to do', () => {
    fc.assert(
      fc.property(arbState, (s) => {
        const input: IpPlanInput = {publicAddresses: pool, desired: s.desired, observed: [...nonPublic, ...s.observed], links: links(s.up)}
        const plan = planIp(input)
        const again = planIp({...input, observed: apply(input, plan.actions)})
        expect(again.actions).toEqual([])
      }),
    )
  })

  test('after acting, each desired address is held exactly once on an up interface of its own, or is unavailable; nothing else public is held; non-public addresses survive', () => {
    fc.assert(
      fc.property(arbState, (s) => {
        const input: IpPlanInput = {publicAddresses: pool, desired: s.desired, observed: [...nonPublic, ...s.observed], links: links(s.up)}
        const plan = planIp(input)
        const host = apply(input, plan.actions)
        for (const np of nonPublic) expect(host).toContainEqual(np)
        const managed = ['eth1', 'eth2', 'eth3']
        for (const p of pool) {
          const copies = host.filter((h) => h.address === p.address && managed.includes(h.interface))
          const unavailable = plan.unavailable.find((u) => u.address === p.address)
          if (!s.desired.includes(p.address)) expect(copies).toEqual([])
          else if (unavailable) expect(copies.length).toBeLessThanOrEqual(1)
          else {
            expect(copies).toHaveLength(1)
            expect(p.interfaces).toContain(copies[0].interface)
            expect(s.up[copies[0].interface as keyof typeof s.up]).toBe(true)
            expect(copies[0].prefixLength).toBe(p.prefixLength)
          }
        }
        // Addresses on the unmanaged eth9 are never touched.
        expect(host.filter((h) => h.interface === 'eth9')).toEqual(input.observed.filter((o) => o.interface === 'eth9'))
      }),
    )
  })
})
