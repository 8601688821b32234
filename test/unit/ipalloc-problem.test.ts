// parseProblem: the problem format and its error messages; address keys and distances.
import {allocate, parseProblem} from '../../src/cluster/ipalloc/index.js'
import {addressKey, distance, KEY_WORDS} from '../../src/cluster/ipalloc/key.js'

const base = () => ({
  algorithm: 'lcp2',
  tunables: {noIPTakeover: false},
  nodes: [
    {pnn: 0, flags: []},
    {pnn: 1, flags: ['UNHEALTHY']},
  ],
  ips: [
    {address: '192.168.1.1', current: 0},
    {address: '192.168.1.2', current: -1, allowed: [1]},
  ],
})

function errorOf(json: unknown): string {
  try {
    parseProblem(json)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('parseProblem accepted the problem')
}

describe('parseProblem', () => {
  test('accepts a valid problem and keeps its fields', () => {
    const p = parseProblem({...base(), source: 'x', expected: [['192.168.1.1', 0]], homeNodes: {'192.168.1.2': 1}})
    expect(p.algorithm).toBe('lcp2')
    expect(p.nodes[1].flags).toEqual(['UNHEALTHY'])
    expect(p.ips[1]).toEqual({address: '192.168.1.2', current: -1, allowed: [1]})
    expect(p.homeNodes).toEqual({'192.168.1.2': 1})
  })

  test('defaults: algorithm lcp2, tunables off, flags empty', () => {
    const p = parseProblem({nodes: [{pnn: 0}], ips: []})
    expect(p.algorithm).toBe('lcp2')
    expect(p.tunables).toEqual({noIPTakeover: false})
    expect(p.nodes[0]).toEqual({pnn: 0, flags: []})
  })

  test.each([
    ['not an object', [], 'the problem must be a JSON object, not an array'],
    ['bad algorithm', {...base(), algorithm: 'lcp3'}, 'algorithm: "lcp3" is not one of lcp2, deterministic, nondeterministic'],
    ['bad tunable', {...base(), tunables: {noIPTakeover: 'yes'}}, 'tunables.noIPTakeover: "yes" is not a boolean'],
    ['missing nodes', {...base(), nodes: undefined}, 'nodes: missing (an array of nodes in pnn order)'],
    ['no nodes', {...base(), nodes: []}, 'nodes: the problem needs at least one node'],
    ['pnn out of order', {...base(), nodes: [{pnn: 1, flags: []}]}, 'nodes[0].pnn: 1 must be 0 (nodes are listed in pnn order, from 0)'],
    ['unknown flag', {...base(), nodes: [{pnn: 0, flags: ['SICK']}]}, 'nodes[0].flags[0]: "SICK" is not one of DISCONNECTED, UNHEALTHY, DISABLED, BANNED, DELETED, STOPPED'],
    ['bad running', {...base(), nodes: [{pnn: 0, flags: [], running: 1}]}, 'nodes[0].running: 1 is not a boolean'],
    ['ips not an array', {...base(), ips: {}}, 'ips: {} is not an array'],
    ['bad address', {...base(), ips: [{address: '1.2.3', current: 0}]}, 'ips[0].address: "1.2.3" is not an IPv4 or IPv6 address'],
    ['octet too big', {...base(), ips: [{address: '1.2.3.256', current: 0}]}, 'ips[0].address: "1.2.3.256" is not an IPv4 or IPv6 address'],
    ['zone id', {...base(), ips: [{address: 'fe80::1%eth0', current: 0}]}, 'ips[0].address: "fe80::1%eth0" is not an IPv4 or IPv6 address'],
    ['CIDR', {...base(), ips: [{address: '10.0.0.1/24', current: 0}]}, 'ips[0].address: "10.0.0.1/24" is not an IPv4 or IPv6 address'],
    ['address not a string', {...base(), ips: [{address: 17, current: 0}]}, 'ips[0].address: 17 is not a string'],
    [
      'duplicate address',
      {...base(), ips: [{address: '2001:db8::1', current: 0}, {address: '2001:DB8:0::1', current: 0}]},
      'ips[1].address: "2001:DB8:0::1" is the same address as ips[0]',
    ],
    ['missing current', {...base(), ips: [{address: '10.0.0.1'}]}, 'ips[0].current: missing (the pnn holding the address, -1 for none)'],
    ['current out of range', {...base(), ips: [{address: '10.0.0.1', current: 2}]}, 'ips[0].current: pnn 2 is out of range (-1 or 0..1, the problem has 2 nodes)'],
    ['current not an integer', {...base(), ips: [{address: '10.0.0.1', current: 0.5}]}, 'ips[0].current: 0.5 is not an integer pnn'],
    ['empty allowed', {...base(), ips: [{address: '10.0.0.1', current: 0, allowed: []}]}, 'ips[0].allowed: must name at least one node (omit it to allow every node)'],
    ['allowed out of range', {...base(), ips: [{address: '10.0.0.1', current: 0, allowed: [0, -1]}]}, 'ips[0].allowed[1]: pnn -1 is out of range (0..1, the problem has 2 nodes)'],
    ['bad home node', {...base(), homeNodes: {'10.0.0.1': -2}}, 'homeNodes["10.0.0.1"]: -2 is not a pnn (a non-negative integer)'],
    ['bad home address', {...base(), homeNodes: {'10.0.0': 1}}, 'homeNodes["10.0.0"]: "10.0.0" is not an IPv4 or IPv6 address'],
  ])('%s', (_name, json, message) => {
    expect(errorOf(json)).toBe(message)
  })
})

describe('address keys', () => {
  const key = (a: string) => Array.from(addressKey(a) ?? [])

  test('IPv4 is the last word, IPv6 four big-endian words', () => {
    expect(key('192.168.1.2')).toEqual([0, 0, 0, 0xc0a80102])
    expect(key('2001:db8::1:2')).toEqual([0x20010db8, 0, 0, 0x00010002])
    expect(key('::ffff:1.2.3.4')).toEqual([0, 0, 0xffff, 0x01020304])
    expect(key('::1.2.3.4')).toEqual([0, 0, 0, 0x01020304])
  })

  test.each(['1.2.3', '01.2.3.4', '1.2.3.4.5', '::g', '1:2:3:4:5:6:7:8:9', '', 'localhost', '1.2.3.4:80'])('rejects %j', (a) => {
    expect(addressKey(a)).toBeUndefined()
  })

  test('distance: equal words count 32, others their common prefix length, independently', () => {
    const keys = new Uint32Array(3 * KEY_WORDS)
    keys.set(addressKey('192.168.1.1')!, 0)
    keys.set(addressKey('192.168.1.2')!, KEY_WORDS)
    keys.set(addressKey('fd00::1')!, 2 * KEY_WORDS)
    expect(distance(keys, 0, 0)).toBe(128)
    expect(distance(keys, 0, 1)).toBe(96 + 30)
    // fd00:: vs 0: word 0 differs in its first bit, words 1 and 2 are equal, word 3 is 1 vs c0a80101.
    expect(distance(keys, 0, 2)).toBe(0 + 32 + 32 + 0)
  })
})

describe('allocate', () => {
  test('--algorithm override', () => {
    const p = parseProblem({
      algorithm: 'lcp2',
      nodes: [{pnn: 0}, {pnn: 1}, {pnn: 2}],
      ips: ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((address) => ({address, current: 0})),
    })
    expect(allocate(p, {algorithm: 'deterministic'})).toEqual([
      ['10.0.0.3', 0],
      ['10.0.0.2', 1],
      ['10.0.0.1', 2],
    ])
  })

  test('an owner that does not know the address is ignored', () => {
    const p = parseProblem({
      algorithm: 'nondeterministic',
      tunables: {noIPTakeover: true},
      nodes: [{pnn: 0}, {pnn: 1}],
      ips: [
        {address: '10.0.0.1', current: 1, allowed: [0]},
        {address: '10.0.0.2', current: 1},
      ],
    })
    expect(allocate(p)).toEqual([
      ['10.0.0.2', 1],
      ['10.0.0.1', -1],
    ])
  })

  test('NoIPFailback stops after placing unassigned addresses', () => {
    const json = {
      algorithm: 'lcp2',
      nodes: [{pnn: 0}, {pnn: 1}],
      ips: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((address) => ({address, current: 0})),
    }
    expect(allocate(parseProblem(json)).filter(([, p]) => p === 1).length).toBe(2)
    expect(allocate(parseProblem({...json, tunables: {noIPTakeover: false, noIPFailback: true}})).every(([, p]) => p === 0)).toBe(true)
  })
})
