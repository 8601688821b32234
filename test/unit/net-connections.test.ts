// The `SRC:PORT DST:PORT` connection lines of ctdb_killtcp (helpers-spec §3.1): address forms,
// which token is which, skipped lines and one clear error per bad line.
import {formatSockAddr, parseSockAddr} from '../../src/net/addr.js'
import {formatConnection, parseConnectionLine, parseConnectionLines} from '../../src/net/connections.js'
import {captureFilter, MAX_FILTER_HOSTS, replyHostClauses} from '../../src/net/killtcp.js'

describe('socket addresses', () => {
  test.each([
    ['10.0.0.1:445', 4, '10.0.0.1', 445],
    ['[fd00::1]:2049', 6, 'fd00::1', 2049],
    ['fd00::1:2049', 6, 'fd00::1', 2049], // bare IPv6: the last ':' separates the port
    ['[FD00:0:0:0:0:0:0:A]:1', 6, 'fd00::a', 1],
    ['[::ffff:192.0.2.128]:80', 4, '192.0.2.128', 80], // IPv4-mapped becomes IPv4
    ['::ffff:192.0.2.128:80', 4, '192.0.2.128', 80],
    ['0.0.0.0:0', 4, '0.0.0.0', 0],
    ['255.255.255.255:65535', 4, '255.255.255.255', 65535],
  ])('%s', (text, family, address, port) => {
    const a = parseSockAddr(text)
    expect(a).toMatchObject({family, address, port})
    expect(a.bytes).toHaveLength(family === 4 ? 4 : 16)
  })

  test.each([
    ['10.0.0.1', /missing ':port'/],
    ['10.0.0.1:', /invalid port ''/],
    ['10.0.0.1:65536', /invalid port '65536'/],
    ['10.0.0.1:-1', /invalid port/],
    ['10.0.0.1:8x', /invalid port '8x'/],
    ['10.0.0:1', /invalid IP address '10.0.0'/],
    ['010.0.0.1:1', /invalid IP address/],
    ['10.0.0.256:1', /invalid IP address/],
    ['[fe80::1%eth0]:1', /invalid IP address/],
    ['[fd00::1:1', /unbalanced brackets/],
    ['host.example:22', /invalid IP address 'host.example'/],
  ])('rejects %s', (text, reason) => {
    expect(() => parseSockAddr(text)).toThrow(reason)
  })

  test('formats as CTDB prints', () => {
    expect(formatSockAddr(parseSockAddr('10.0.0.1:445'))).toBe('10.0.0.1:445')
    expect(formatSockAddr(parseSockAddr('fd00:0::1:445'))).toBe('[fd00::1]:445')
  })
})

describe('connection lines', () => {
  test('token 1 is impersonated, token 2 is tickled and reset', () => {
    const c = parseConnectionLine('10.0.1.99:40312 10.0.1.5:445')!
    expect(formatSockAddr(c.impersonate)).toBe('10.0.1.99:40312')
    expect(formatSockAddr(c.reset)).toBe('10.0.1.5:445')
    expect(formatConnection(c)).toBe('10.0.1.99:40312 10.0.1.5:445')
  })

  test('TABs and runs of blanks separate tokens; tokens after the second are ignored, as in CTDB', () => {
    expect(formatConnection(parseConnectionLine('\t10.0.0.1:1 \t  10.0.0.2:2')!)).toBe('10.0.0.1:1 10.0.0.2:2')
    expect(formatConnection(parseConnectionLine('10.0.0.1:1 10.0.0.2:2 whatever else')!)).toBe('10.0.0.1:1 10.0.0.2:2')
    expect(formatConnection(parseConnectionLine('[fd00::1]:1\t[fd00::2]:2')!)).toBe('[fd00::1]:1 [fd00::2]:2')
  })

  test('empty lines and lines starting with # are skipped', () => {
    expect(parseConnectionLine('')).toBeUndefined()
    expect(parseConnectionLine('# comment')).toBeUndefined()
    expect(parseConnectionLine('#10.0.0.1:1 10.0.0.2:2')).toBeUndefined()
  })

  test.each([
    ['   ', /only spaces/],
    ['  # indented comment', /invalid|missing/], // CTDB only skips '#' in column 1
    ['10.0.0.1:1', /expected two addresses/],
    ['10.0.0.1:1 [fd00::2]:2', /address families differ/],
    ['10.0.0.1:1 10.0.0.2:2\r', /invalid port '2\r'/],
    ['garbage', /expected two addresses/],
    ['a:1 b:2', /invalid IP address 'a'/],
  ])('rejects %j', (line, reason) => {
    expect(() => parseConnectionLine(line)).toThrow(reason)
  })

  test('a whole input: good lines kept in order, each bad line reported with its 1-based number', () => {
    const text = ['# header', '10.0.0.1:1 10.0.0.2:2', 'junk', '', '10.0.0.3:3 10.0.0.4:4', '10.0.0.5:5 10.0.0.6:99999', '[fd00::1]:7 [fd00::2]:8', ''].join('\n')
    const {connections, errors} = parseConnectionLines(text)
    expect(connections.map(formatConnection)).toEqual(['10.0.0.1:1 10.0.0.2:2', '10.0.0.3:3 10.0.0.4:4', '[fd00::1]:7 [fd00::2]:8'])
    expect(errors).toEqual([
      {line: 3, text: 'junk', reason: expect.stringMatching(/expected two addresses/)},
      {line: 6, text: '10.0.0.5:5 10.0.0.6:99999', reason: expect.stringMatching(/invalid port '99999'/)},
    ])
  })

  test('no trailing newline, and an empty input', () => {
    expect(parseConnectionLines('10.0.0.1:1 10.0.0.2:2').connections).toHaveLength(1)
    expect(parseConnectionLines('')).toEqual({connections: [], errors: []})
  })
})

describe('capture filter', () => {
  const conns = (text: string) => parseConnectionLines(text).connections

  test("passes every TCP segment except CTDB's own (window 1234 and RST or seq 0)", () => {
    expect(captureFilter(new Set([4]))).toBe('(ip and tcp and not (tcp[14:2] = 1234 and (tcp[13] & 4 != 0 or tcp[4:4] = 0)))')
    expect(captureFilter(new Set([4, 6]))).toContain('(ip6 and ip6[6] = 6 and not (ip6[54:2] = 1234 and (ip6[53] & 4 != 0 or ip6[44:4] = 0)))')
    expect(captureFilter(new Set([4]), ['src host 10.0.0.1', 'dst host 10.0.0.2'])).toMatch(/\) and \(src host 10\.0\.0\.1 or dst host 10\.0\.0\.2\)$/)
  })

  test("releaseip's input (both directions, one public address, many clients) narrows to that address", () => {
    const lines = Array.from({length: 200}, (_, i) => `10.0.2.${(i % 100) + 1}:${40000 + i} 10.0.1.5:445\n10.0.1.5:445 10.0.2.${(i % 100) + 1}:${40000 + i}`)
    expect(replyHostClauses(conns(lines.join('\n'))).sort()).toEqual(['dst host 10.0.1.5', 'src host 10.0.1.5'])
  })

  test('every reply (from the reset end to the impersonated end) matches a clause', () => {
    const text = ['10.0.0.1:1 10.0.0.2:2', '10.0.0.3:1 10.0.0.2:3', '10.0.0.4:1 10.0.0.5:2', '[fd00::1]:1 [fd00::2]:2'].join('\n')
    const clauses = replyHostClauses(conns(text))
    for (const c of conns(text)) {
      expect(clauses.some((cl) => cl === `src host ${c.reset.address}` || cl === `dst host ${c.impersonate.address}`)).toBe(true)
    }
    expect(clauses.length).toBeLessThanOrEqual(3)
  })

  test('too many distinct hosts on both sides: no narrowing', () => {
    const lines = Array.from({length: MAX_FILTER_HOSTS + 1}, (_, i) => `10.0.1.${i + 1}:1 10.0.2.${i + 1}:2`)
    expect(replyHostClauses(conns(lines.join('\n')))).toEqual([])
    expect(replyHostClauses([])).toEqual([])
  })
})
