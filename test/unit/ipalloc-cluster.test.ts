// allocateForCluster: the config model + a state snapshot as CTDB's leader sees them.
import type {ClusterConfig, IpAllocationConfig, PublicAddress} from '../../src/config/model.js'
import type {ClusterState, NodeFlag, NodeState} from '../../src/cluster/state.js'
import {allocate, allocateForCluster, parseProblem} from '../../src/cluster/ipalloc/index.js'

function config(opts: {nodes?: number; deleted?: number[]; addresses?: Partial<PublicAddress>[]; ipAllocation?: Partial<IpAllocationConfig>}): ClusterConfig {
  const n = opts.nodes ?? 3
  return {
    apiVersion: 'ctdbctl/v1',
    name: 'test',
    nats: {servers: ['nats://127.0.0.1:4222']},
    nodes: Array.from({length: n}, (_, pnn) => ({
      pnn,
      name: `fs${pnn + 1}`,
      address: `10.0.0.${pnn + 1}`,
      family: 4 as const,
      capabilities: {leader: true, lmaster: true},
      deleted: (opts.deleted ?? []).includes(pnn),
    })),
    clusterLock: {type: 'none'},
    publicAddresses: (opts.addresses ?? ['192.168.1.10', '192.168.1.11', '192.168.1.12'].map((address): Partial<PublicAddress> => ({address}))).map((a) => ({
      address: a.address!,
      prefixLength: 24,
      family: a.address!.includes(':') ? 6 : 4,
      interfaces: a.interfaces ?? ['eth1'],
      ...(a.nodes ? {nodes: a.nodes} : {}),
    })),
    ipAllocation: {algorithm: 'lcp2', failback: true, takeover: true, hostOnAllDisabled: false, ...opts.ipAllocation},
    natgw: [],
    lvs: [],
    databases: [],
    services: [],
    tunables: {
      keepaliveIntervalMs: 5000,
      keepaliveLimit: 5,
      monitorIntervalMs: 15000,
      eventScriptTimeoutMs: 30000,
      recoveryTimeoutMs: 120000,
      takeoverTimeoutMs: 9000,
      banPeriodMs: 300000,
      tickleUpdateIntervalMs: 20000,
      tickles: true,
      tickleScanIntervalMs: 2000,
    },
  }
}

function state(nodes: (NodeFlag[] | Partial<NodeState> | undefined)[], held: [string, number][] = []): ClusterState {
  return {
    cluster: 'test',
    nodes: nodes.flatMap((n, pnn) => (n === undefined ? [] : [Array.isArray(n) ? {pnn, flags: n} : {pnn, flags: [], ...n}])),
    publicAddresses: held.map(([address, pnn]) => ({address, pnn})),
  }
}

const entries = (m: Map<string, number>) => [...m]

describe('allocateForCluster', () => {
  test('healthy cluster: same answer as the equivalent problem, in CTDB order', () => {
    const result = allocateForCluster(config({}), state([[], [], []]))
    const problem = parseProblem({
      nodes: [{pnn: 0}, {pnn: 1}, {pnn: 2}],
      ips: ['192.168.1.10', '192.168.1.11', '192.168.1.12'].map((address) => ({address, current: -1})),
    })
    expect(entries(result)).toEqual(allocate(problem))
    expect(entries(result)).toEqual([
      ['192.168.1.12', 0],
      ['192.168.1.11', 1],
      ['192.168.1.10', 2],
    ])
  })

  test('current holders keep their addresses', () => {
    const held: [string, number][] = [
      ['192.168.1.10', 1],
      ['192.168.1.11', 2],
      ['192.168.1.12', 0],
    ]
    expect(new Map(held)).toEqual(allocateForCluster(config({}), state([[], [], []], held)))
  })

  test('a node absent from the snapshot is DISCONNECTED and loses its addresses', () => {
    const result = allocateForCluster(config({}), state([[], []], [['192.168.1.10', 2]]))
    expect([...result.values()].every((p) => p === 0 || p === 1)).toBe(true)
  })

  test('flags: UNHEALTHY, DISABLED, BANNED, STOPPED nodes host nothing', () => {
    for (const flag of ['UNHEALTHY', 'DISABLED', 'BANNED', 'STOPPED'] as NodeFlag[]) {
      const result = allocateForCluster(config({}), state([[], [flag], []], [['192.168.1.10', 1]]))
      expect([...result.values()]).not.toContain(1)
      expect([...result.values()]).not.toContain(-1)
    }
  })

  test('a config-deleted node hosts nothing, whatever the snapshot says', () => {
    const result = allocateForCluster(config({deleted: [0]}), state([[], [], []], [['192.168.1.10', 0]]))
    expect([...result.values()]).not.toContain(0)
    expect([...result.values()]).not.toContain(-1)
  })

  test('publicAddresses[].nodes restricts where an address may go', () => {
    const cfg = config({
      addresses: [
        {address: '192.168.1.10', nodes: [2]},
        {address: '192.168.1.11', nodes: [0, 1]},
        {address: '192.168.1.12', nodes: [0, 1]},
      ],
    })
    const result = allocateForCluster(cfg, state([[], [], []], [['192.168.1.10', 0]]))
    expect(result.get('192.168.1.10')).toBe(2)
    expect([result.get('192.168.1.11'), result.get('192.168.1.12')].sort()).toEqual([0, 1])
  })

  test('an address is unavailable on a node where all its interfaces are down', () => {
    const cfg = config({addresses: [{address: '192.168.1.10', interfaces: ['eth1', 'eth2']}]})
    // Node 0: both down. Node 1: eth1 down, eth2 up. Node 2: link state unknown (counts as up), but DISABLED.
    const nodes = [{interfaces: {eth1: 'down', eth2: 'down'}}, {interfaces: {eth1: 'down', eth2: 'up'}}, {flags: ['DISABLED']}] as Partial<NodeState>[]
    expect(allocateForCluster(cfg, state(nodes, [['192.168.1.10', 0]])).get('192.168.1.10')).toBe(1)
    const allDown = [{interfaces: {eth1: 'down', eth2: 'down'}}, {interfaces: {eth1: 'down', eth2: 'down'}}, {flags: ['DISABLED']}] as Partial<NodeState>[]
    expect(allocateForCluster(cfg, state(allDown, [['192.168.1.10', 0]])).get('192.168.1.10')).toBe(-1)
    // An interface the node does not report is taken as up.
    const unreported = [{interfaces: {eth1: 'down'}}, {flags: ['DISABLED']}, {flags: ['DISABLED']}] as Partial<NodeState>[]
    expect(allocateForCluster(cfg, state(unreported)).get('192.168.1.10')).toBe(0)
  })

  test('takeover: false (NoIPTakeover): nothing is placed on a node that does not hold it', () => {
    const cfg = config({ipAllocation: {takeover: false}})
    const result = allocateForCluster(cfg, state([[], [], []], [['192.168.1.10', 0]]))
    expect(entries(result)).toEqual([
      ['192.168.1.12', -1],
      ['192.168.1.11', -1],
      ['192.168.1.10', 0],
    ])
  })

  test('failback: false (NoIPFailback): a returning node gets nothing back', () => {
    const held: [string, number][] = [
      ['192.168.1.10', 0],
      ['192.168.1.11', 0],
      ['192.168.1.12', 1],
    ]
    expect(entries(allocateForCluster(config({ipAllocation: {failback: false}}), state([[], [], []], held)))).toEqual([
      ['192.168.1.12', 1],
      ['192.168.1.11', 0],
      ['192.168.1.10', 0],
    ])
    // With failback the empty node 2 receives one.
    expect([...allocateForCluster(config({}), state([[], [], []], held)).values()]).toContain(2)
  })

  describe('hostOnAllDisabled', () => {
    const allSick = state([['UNHEALTHY'], ['DISABLED'], ['UNHEALTHY', 'DISABLED']], [['192.168.1.10', 1]])

    test('off: when every node is unhealthy or disabled nobody hosts', () => {
      expect([...allocateForCluster(config({}), allSick).values()]).toEqual([-1, -1, -1])
    })

    test('on: when every node is unhealthy or disabled they still host', () => {
      const result = allocateForCluster(config({ipAllocation: {hostOnAllDisabled: true}}), allSick)
      expect(result.get('192.168.1.10')).toBe(1)
      expect([...result.values()].sort()).toEqual([0, 1, 2])
    })

    test('on: inactive nodes count as disabled but still host nothing', () => {
      const s = state([['UNHEALTHY'], ['BANNED'], undefined], [['192.168.1.10', 1]])
      expect([...allocateForCluster(config({ipAllocation: {hostOnAllDisabled: true}}), s).values()]).toEqual([0, 0, 0])
    })

    test('on: one healthy node is enough for the unhealthy ones to host nothing', () => {
      const s = state([['UNHEALTHY'], [], ['DISABLED']], [['192.168.1.10', 0]])
      expect([...allocateForCluster(config({ipAllocation: {hostOnAllDisabled: true}}), s).values()]).toEqual([1, 1, 1])
    })
  })

  test('addresses known on no active node are left out of the list (deterministic indices unchanged) and reported -1', () => {
    const cfg = config({
      nodes: 2,
      ipAllocation: {algorithm: 'deterministic'},
      addresses: [{address: '192.168.1.13', nodes: [1]}, {address: '192.168.1.12'}, {address: '192.168.1.11'}],
    })
    // Node 1 is disconnected: it reports no addresses, so .13 is unknown to the cluster.
    expect(entries(allocateForCluster(cfg, state([[]])))).toEqual([
      ['192.168.1.12', 0],
      ['192.168.1.11', 0],
      ['192.168.1.13', -1],
    ])
  })

  test('the highest pnn claiming an address is its owner; claims by nodes that do not know it are ignored', () => {
    const cfg = config({addresses: [{address: '192.168.1.10', nodes: [0, 1]}], ipAllocation: {takeover: false}})
    expect(
      allocateForCluster(
        cfg,
        state(
          [[], [], []],
          [
            ['192.168.1.10', 0],
            ['192.168.1.10', 1],
          ],
        ),
      ).get('192.168.1.10'),
    ).toBe(1)
    expect(allocateForCluster(cfg, state([[], [], []], [['192.168.1.10', 2]])).get('192.168.1.10')).toBe(-1)
  })

  test('state addresses may be spelt differently from the config; IPv6 comes first', () => {
    const cfg = config({addresses: [{address: '192.168.1.10'}, {address: '2001:db8::10'}], ipAllocation: {takeover: false}})
    expect(entries(allocateForCluster(cfg, state([[], [], []], [['2001:DB8:0:0::10', 2]])))).toEqual([
      ['2001:db8::10', 2],
      ['192.168.1.10', -1],
    ])
  })

  test('the algorithm comes from the config unless overridden', () => {
    const cfg = config({ipAllocation: {algorithm: 'deterministic'}})
    const s = state([[], [], []], [['192.168.1.10', 0]])
    // Deterministic ignores current owners: entry i goes to node i mod 3.
    expect(allocateForCluster(cfg, s).get('192.168.1.10')).toBe(2)
    expect(allocateForCluster(cfg, s, {algorithm: 'lcp2'}).get('192.168.1.10')).toBe(0)
  })

  test('no nodes: everything unassigned', () => {
    expect([...allocateForCluster(config({nodes: 0}), state([])).values()]).toEqual([-1, -1, -1])
  })
})
