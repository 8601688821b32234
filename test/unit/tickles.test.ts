// The pure parts of connection tracking: `ss` parsing, the release kill list, the takeover
// tickles, the KV record codec and the `tickles list` output.
import fc from 'fast-check'
import {AddressError, formatSockAddr, parseSockAddr} from '../../src/net/addr.js'
import {formatConnection} from '../../src/net/connections.js'
import {connectionsOf, formatEndpoint, parseEndpoint, parseSsEstablished, releaseKillList, takeoverTickles, type TrackedConnection} from '../../src/tickles/connections.js'
import {decodeRecord, encodeRecord, fitRecord, tickleKey, type TickleRecord} from '../../src/tickles/record.js'
import {renderTickles, tickleListing} from '../../src/tickles/render.js'
import {ssSourceFilter} from '../../src/tickles/scan.js'

const SS = [
  '0      0               10.0.1.101:445          10.0.1.200:51234',
  '0      0               10.0.1.101:2049         10.0.1.200:700   ',
  '0      36              10.0.1.102:22           10.0.9.9:40000',
  '0      0      [::ffff:10.0.1.101]:8080 [::ffff:10.0.1.201]:41000',
  '0      0            [fd00::101]:445       [fd00::200]:50000',
  '0      0       [fe80::1%eth1]:22        [fe80::2%eth1]:40001',
  'Recv-Q Send-Q Local Address:Port Peer Address:Port',
  'garbage',
  '',
].join('\n')

describe('parseSsEstablished', () => {
  test('reads local and peer of every IPv4, IPv6 and mapped line; skips headers, zones and garbage', () => {
    const got = parseSsEstablished(SS).map((c) => `${c.local.address}:${c.local.port} ${c.peer.address}:${c.peer.port}`)
    expect(got).toEqual(['10.0.1.101:445 10.0.1.200:51234', '10.0.1.101:2049 10.0.1.200:700', '10.0.1.102:22 10.0.9.9:40000', '10.0.1.101:8080 10.0.1.201:41000', 'fd00::101:445 fd00::200:50000'])
  })

  test('empty output is no connection', () => {
    expect(parseSsEstablished('')).toEqual([])
  })
})

describe('parseEndpoint (the fast path of the scan)', () => {
  const same = (text: string) => {
    let slow: string | Error
    try {
      slow = formatSockAddr(parseSockAddr(text))
    } catch (e) {
      slow = e as Error
    }
    if (slow instanceof Error) {
      expect(() => parseEndpoint(text)).toThrow(AddressError)
    } else {
      expect(formatEndpoint(parseEndpoint(text))).toBe(slow)
    }
  }

  test.each(['10.0.1.101:445', '0.0.0.0:0', '255.255.255.255:65535', '256.0.0.1:1', '01.2.3.4:5', '1.2.3:4', '1.2.3.4:65536', '1.2.3.4:', '1.2.3.4', '[::ffff:1.2.3.4]:80', '[fd00::1]:22', '[FD00:0::1]:22', '1.2.3.4:0445'])('agrees with parseSockAddr on %s', same)

  test('agrees with parseSockAddr on generated dotted quads and ports', () => {
    const octet = fc.oneof(fc.integer({min: 0, max: 300}).map(String), fc.constantFrom('00', '01', '010', ''))
    fc.assert(fc.property(fc.tuple(octet, octet, octet, octet), fc.oneof(fc.integer({min: 0, max: 70000}).map(String), fc.constantFrom('', '00080', 'x')), (o, port) => same(`${o.join('.')}:${port}`)), {numRuns: 500})
  })
})

describe('connectionsOf', () => {
  test('keeps the connections whose local address is the public address, client first, sorted and distinct', () => {
    const est = parseSsEstablished(SS + '\n' + SS)
    expect(connectionsOf(est, '10.0.1.101')).toEqual([
      {client: '10.0.1.200:700', public: '10.0.1.101:2049'},
      {client: '10.0.1.200:51234', public: '10.0.1.101:445'},
      {client: '10.0.1.201:41000', public: '10.0.1.101:8080'},
    ])
    expect(connectionsOf(est, 'fd00::101')).toEqual([{client: '[fd00::200]:50000', public: '[fd00::101]:445'}])
    expect(connectionsOf(est, '10.0.1.200')).toEqual([])
  })
})

describe('releaseKillList (10.interface releaseip)', () => {
  const conns: TrackedConnection[] = [
    {client: '10.0.1.200:51234', public: '10.0.1.101:445'},
    {client: '10.0.1.200:51235', public: '10.0.1.101:139'},
    {client: '10.0.1.200:700', public: '10.0.1.101:2049'},
  ]

  test('resets the local end of every connection, and the client too except on ports 139 and 445', () => {
    // killtcp lines: the impersonated end first, the end that is reset second.
    expect(releaseKillList(conns).map(formatConnection)).toEqual([
      '10.0.1.200:51234 10.0.1.101:445',
      '10.0.1.200:51235 10.0.1.101:139',
      '10.0.1.200:700 10.0.1.101:2049',
      '10.0.1.101:2049 10.0.1.200:700',
    ])
  })

  test('one-way mode resets only local ends', () => {
    expect(releaseKillList(conns, true).map((c) => c.reset.address)).toEqual(['10.0.1.101', '10.0.1.101', '10.0.1.101'])
  })
})

describe('takeoverTickles (takeip)', () => {
  test('each client gets a tickle from the public end; entries of other addresses or bad text are skipped', () => {
    const t = takeoverTickles(
      [
        {client: '10.0.1.200:51234', public: '10.0.1.101:445'},
        {client: '[fd00::200]:50000', public: '[fd00::101]:445'},
        {client: '10.0.1.200:1', public: '10.0.1.102:445'},
        {client: 'nonsense', public: '10.0.1.101:445'},
      ],
      '10.0.1.101',
    )
    expect(t.map((x) => `${x.from.address}:${x.from.port} -> ${x.to.address}:${x.to.port}`)).toEqual(['10.0.1.101:445 -> 10.0.1.200:51234'])
  })
})

describe('tickle records', () => {
  const record: TickleRecord = {v: 1, address: 'fd00::101', pnn: 2, time: '2026-11-24T12:00:00.000Z', connections: [{client: '[fd00::200]:50000', public: '[fd00::101]:445'}]}

  test('round trip', () => {
    expect(decodeRecord(encodeRecord(record))).toEqual({record, dropped: 0})
    expect(decodeRecord(new TextEncoder().encode(encodeRecord(record)))).toEqual({record, dropped: 0})
  })

  test('keys are valid KV keys', () => {
    expect(tickleKey('10.0.1.101')).toBe('10.0.1.101')
    expect(tickleKey('fd00::101')).toBe('fd00__101')
    expect(tickleKey('fd00::101')).toMatch(/^[-/_=.a-zA-Z0-9]+$/)
  })

  test.each([
    ['not JSON', '{', /not JSON/],
    ['invalid UTF-8', new Uint8Array([0xff, 0xfe]), /not JSON/],
    ['a list', '[]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['another version', JSON.stringify({...record, v: 2}), /unknown version 2/],
    ['a bad address', JSON.stringify({...record, address: 'fd00::zz'}), /bad address/],
    ['a negative pnn', JSON.stringify({...record, pnn: -1}), /bad pnn/],
    ['a bad time', JSON.stringify({...record, time: 'yesterday'}), /bad time/],
    ['connections not a list', JSON.stringify({...record, connections: {}}), /not a list/],
  ])('rejects %s with a reason, without throwing', (_name, data, reason) => {
    const d = decodeRecord(data)
    expect('error' in d && d.error).toMatch(reason)
  })

  test('drops and counts malformed connections, keeps the good ones (canonical)', () => {
    const d = decodeRecord(JSON.stringify({...record, address: 'FD00:0::101', connections: [{client: '[FD00::200]:50000', public: '[fd00::101]:445'}, {client: '10.0.0.1:1', public: '[fd00::101]:445'}, {client: '[fd00::200]:1', public: '[fd00::102]:445'}, 'x', null, {client: 1, public: 2}]}))
    expect(d).toEqual({record: {...record, connections: [{client: '[fd00::200]:50000', public: '[fd00::101]:445'}]}, dropped: 5})
  })
})

describe('fitRecord', () => {
  const many: TickleRecord = {v: 1, address: '10.0.1.101', pnn: 0, time: '2026-11-24T12:00:00.000Z', connections: Array.from({length: 5000}, (_, i) => ({client: `10.0.9.${i % 250}:${10000 + i}`, public: '10.0.1.101:445'}))}

  test('a record that fits is unchanged', () => {
    expect(fitRecord(many, 1 << 20)).toEqual({record: many, dropped: 0})
  })

  test('a record too large keeps its first connections, as many as fit', () => {
    const {record, dropped} = fitRecord(many, 100_000)
    const size = Buffer.byteLength(encodeRecord(record))
    expect(size).toBeLessThanOrEqual(100_000)
    expect(size).toBeGreaterThan(90_000)
    expect(record.connections).toEqual(many.connections.slice(0, record.connections.length))
    expect(dropped).toBe(5000 - record.connections.length)
  })
})

describe('tickles list output (ctdb gettickles)', () => {
  const record: TickleRecord = {v: 1, address: '10.0.1.101', pnn: 0, time: '2026-11-24T12:00:00.000Z', connections: [{client: '10.0.1.200:700', public: '10.0.1.101:2049'}, {client: '10.0.1.200:51234', public: '10.0.1.101:445'}]}

  test('every connection, SRC = client, DST = public, three spaces', () => {
    expect(renderTickles(tickleListing('10.0.1.101', record))).toBe('Connections for IP: 10.0.1.101\nNum connections: 2\nSRC: 10.0.1.200:700   DST: 10.0.1.101:2049\nSRC: 10.0.1.200:51234   DST: 10.0.1.101:445\n')
  })

  test('a port keeps only connections to it', () => {
    expect(tickleListing('10.0.1.101', record, 445)).toEqual({address: '10.0.1.101', pnn: 0, time: record.time, connections: [record.connections[1]]})
  })

  test('no stored list: no connections', () => {
    expect(tickleListing('10.0.1.101', undefined)).toEqual({address: '10.0.1.101', connections: []})
    expect(renderTickles(tickleListing('10.0.1.101', undefined))).toBe('Connections for IP: 10.0.1.101\nNum connections: 0\n')
  })
})

describe('ssSourceFilter (argv, no shell)', () => {
  test('one `src [ADDR]` term per address, joined with or, in parentheses', () => {
    expect(ssSourceFilter(['10.0.1.101'])).toEqual(['(', 'src', '[10.0.1.101]', ')'])
    expect(ssSourceFilter(['10.0.1.101', 'fd00::101'])).toEqual(['(', 'src', '[10.0.1.101]', 'or', 'src', '[fd00::101]', ')'])
  })
})
