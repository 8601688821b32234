// Consequences of a change: addresses moving, leaders changing, nodes left without addresses.
import {computeConsequences, compareAddresses, type Allocator} from '../../src/cluster/plan/consequences.js'
import type {ClusterState, NodeFlag} from '../../src/cluster/state.js'
import {load, variant, type Doc} from './plan-helpers.js'

/** Three healthy nodes, six addresses (two each), a NAT gateway and an LVS group. */
const SMALL = `apiVersion: ctdbctl/v1
kind: Cluster
metadata:
  name: fs-small
spec:
  nats:
    servers: [nats://10.0.0.1:4222]
  nodes:
    - {pnn: 0, name: fs1, address: 10.0.0.1}
    - {pnn: 1, name: fs2, address: 10.0.0.2}
    - {pnn: 2, name: fs3, address: 10.0.0.3}
  publicAddresses:
    - {address: 192.168.1.10/24, interfaces: [eth1]}
    - {address: 192.168.1.11/24, interfaces: [eth1]}
    - {address: 192.168.1.12/24, interfaces: [eth1]}
    - {address: 192.168.1.13/24, interfaces: [eth1]}
    - {address: 192.168.1.14/24, interfaces: [eth1]}
    - {address: 192.168.1.15/24, interfaces: [eth1]}
  natgw:
    - name: ng1
      publicAddress: 192.168.1.50/24
      publicInterface: eth1
      privateNetwork: 10.0.0.0/24
      nodes: [fs1, fs2, fs3]
  lvs:
    - {name: lvs1, address: 192.168.1.60, interface: eth1, nodes: [fs2, fs3]}
`

const before = () => load(SMALL)
const after = (edit: (d: Doc) => void) => variant(edit, SMALL)

/** Every node healthy unless told otherwise; the addresses where CTDB's LCP2 puts them. */
function state(flags: Record<number, NodeFlag[]> = {}, held?: [string, number][]): ClusterState {
  return {
    cluster: 'fs-small',
    nodes: [0, 1, 2].map((pnn) => ({pnn, flags: flags[pnn] ?? []})),
    publicAddresses: (held ?? [
      ['192.168.1.10', 0], ['192.168.1.11', 1], ['192.168.1.12', 2],
      ['192.168.1.13', 0], ['192.168.1.14', 1], ['192.168.1.15', 2],
    ]).map(([address, pnn]) => ({address, pnn})),
  }
}

describe('public addresses', () => {
  test('a node added: addresses rebalance onto it', () => {
    const next = after((d) => d.spec.nodes.push({pnn: 3, name: 'fs4', address: '10.0.0.4'}))
    const q = computeConsequences(before(), next, {state: state()})
    expect(q.stateGiven).toBe(true)
    expect(q.notes).toEqual(['Assumed fs4, unknown to the state, joins healthy.'])
    const moved = q.addresses.filter((a) => a.effect === 'moves')
    expect(moved.length).toBeGreaterThan(0)
    expect(moved.every((a) => a.to?.name === 'fs4')).toBe(true)
    expect(q.load.find((l) => l.node.name === 'fs4')).toEqual({node: {pnn: 3, name: 'fs4'}, before: 0, after: moved.length})
    expect(q.nodesLosingAll).toEqual([])
    expect(q.leaders).toEqual([])
  })

  test('an address removed is released by its holder', () => {
    const q = computeConsequences(before(), after((d) => d.spec.publicAddresses.splice(4, 1)), {state: state()})
    expect(q.addresses).toContainEqual({address: '192.168.1.14', effect: 'removed', from: {pnn: 1, name: 'fs2'}, to: null})
    expect(q.addresses.filter((a) => a.effect === 'removed')).toHaveLength(1)
  })

  test('an address added is assigned', () => {
    const q = computeConsequences(before(), after((d) => d.spec.publicAddresses.push({address: '192.168.1.16/24', interfaces: ['eth1']})), {state: state()})
    expect(q.addresses).toEqual([{address: '192.168.1.16', effect: 'added', from: null, to: expect.objectContaining({name: expect.any(String)})}])
  })

  test('an address that no usable node may host becomes unassigned, and newly assigned back', () => {
    const sick = state({2: ['UNHEALTHY']})
    const onlyFs3 = after((d) => (d.spec.publicAddresses[0].nodes = ['fs3']))
    const q = computeConsequences(before(), onlyFs3, {state: sick})
    expect(q.addresses.find((a) => a.address === '192.168.1.10')).toEqual({address: '192.168.1.10', effect: 'unassigned', from: {pnn: 0, name: 'fs1'}, to: null})
    const back = computeConsequences(onlyFs3, before(), {state: sick})
    expect(back.addresses.find((a) => a.address === '192.168.1.10')).toEqual({address: '192.168.1.10', effect: 'assigned', from: null, to: expect.anything()})
  })

  test('a node deleted loses all its addresses; a connected one must be shut down first', () => {
    const next = after((d) => {
      d.spec.nodes[2].deleted = true
      d.spec.natgw[0].nodes = ['fs1', 'fs2']
      d.spec.lvs[0].nodes = ['fs2']
    })
    const q = computeConsequences(before(), next, {state: state()})
    expect(q.nodesLosingAll).toEqual([{pnn: 2, name: 'fs3'}])
    expect(q.addresses.filter((a) => a.effect === 'moves').map((a) => [a.address, a.from?.name])).toEqual([['192.168.1.12', 'fs3'], ['192.168.1.15', 'fs3']])
    expect(q.load).toContainEqual({node: {pnn: 2, name: 'fs3'}, before: 2, after: 0})
    expect(q.warnings).toEqual(['fs3 (pnn 2) is marked deleted but is still connected: shut it down before applying.'])
    expect(computeConsequences(before(), next, {state: state({2: ['DISCONNECTED']})}).warnings).toEqual([])
  })

  test('no change, no consequence', () => {
    expect(computeConsequences(before(), before(), {state: state()})).toMatchObject({addresses: [], leaders: [], nodesLosingAll: [], load: []})
  })
})

describe('leaders', () => {
  test('natgw leader moves when the leader is removed from the group', () => {
    const q = computeConsequences(before(), after((d) => (d.spec.natgw[0].nodes = ['fs2', 'fs3'])), {state: state()})
    expect(q.leaders).toEqual([{group: 'natgw', name: 'ng1', from: {pnn: 0, name: 'fs1'}, to: {pnn: 1, name: 'fs2'}}])
  })

  test('natgw leader moves when the leader becomes follower-only', () => {
    const q = computeConsequences(before(), after((d) => (d.spec.natgw[0].nodes[0] = {node: 'fs1', followerOnly: true})), {state: state()})
    expect(q.leaders).toEqual([{group: 'natgw', name: 'ng1', from: {pnn: 0, name: 'fs1'}, to: {pnn: 1, name: 'fs2'}}])
  })

  test('natgw and lvs leaders move when the leading node is deleted', () => {
    const next = after((d) => {
      d.spec.nodes[1].deleted = true
      d.spec.natgw[0].nodes = ['fs1', 'fs3']
      d.spec.lvs[0].nodes = ['fs3']
    })
    const q = computeConsequences(before(), next, {state: state({0: ['UNHEALTHY']})})
    expect(q.leaders).toEqual([
      {group: 'natgw', name: 'ng1', from: {pnn: 1, name: 'fs2'}, to: {pnn: 2, name: 'fs3'}},
      {group: 'lvs', name: 'lvs1', from: {pnn: 1, name: 'fs2'}, to: {pnn: 2, name: 'fs3'}},
    ])
  })

  test('groups added and removed', () => {
    const next = after((d) => {
      d.spec.lvs = []
      d.spec.natgw.push({name: 'ng2', publicAddress: '192.168.2.50/24', publicInterface: 'eth2', privateNetwork: '10.0.0.0/24', nodes: [{node: 'fs1', followerOnly: true}, 'fs3']})
    })
    expect(computeConsequences(before(), next, {state: state()}).leaders).toEqual([
      {group: 'natgw', name: 'ng2', groupChange: 'added', from: null, to: {pnn: 2, name: 'fs3'}},
      {group: 'lvs', name: 'lvs1', groupChange: 'removed', from: {pnn: 1, name: 'fs2'}, to: null},
    ])
  })
})

describe('without a state', () => {
  test('every node healthy, the new allocation starting from the old one', () => {
    const next = after((d) => d.spec.nodes.push({pnn: 3, name: 'fs4', address: '10.0.0.4'}))
    const q = computeConsequences(before(), next)
    expect(q.stateGiven).toBe(false)
    expect(q.notes).toEqual(['Assumed every node that is not deleted healthy, holding the addresses where the old config puts them.'])
    // Only moves onto the new node: nothing shuffles between the old ones.
    expect(q.addresses.length).toBeGreaterThan(0)
    expect(q.addresses.every((a) => a.effect === 'moves' && a.to?.name === 'fs4')).toBe(true)
  })

  test('against an empty cluster every address is added and every group new', () => {
    const q = computeConsequences(null, before())
    expect(q.addresses).toHaveLength(6)
    expect(q.addresses.every((a) => a.effect === 'added' && a.to !== null)).toBe(true)
    expect(q.leaders).toEqual([
      {group: 'natgw', name: 'ng1', groupChange: 'added', from: null, to: {pnn: 0, name: 'fs1'}},
      {group: 'lvs', name: 'lvs1', groupChange: 'added', from: null, to: {pnn: 1, name: 'fs2'}},
    ])
    expect(q.load.map((l) => [l.node.name, l.before, l.after])).toEqual([['fs1', 0, 2], ['fs2', 0, 2], ['fs3', 0, 2]])
  })
})

test('both allocations start from the same state', () => {
  const calls: ClusterState[] = []
  const allocate: Allocator = (config, s) => {
    calls.push(s)
    return new Map(config.publicAddresses.map((a) => [a.address, 0]))
  }
  const given = state()
  computeConsequences(before(), before(), {state: given, allocate})
  expect(calls).toEqual([given, given])
})

test('addresses are listed IPv4 first, in numeric order', () => {
  const list = ['2001:db8::10', '192.168.1.9', '10.0.0.20', '192.168.1.10', '2001:db8::9', '::1']
  expect([...list].sort(compareAddresses)).toEqual(['10.0.0.20', '192.168.1.9', '192.168.1.10', '::1', '2001:db8::9', '2001:db8::10'])
})
