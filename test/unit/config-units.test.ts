// Building blocks of the config language: durations, addresses, formats, problem rendering and
// source positions.
import fc from 'fast-check'
import {formatDuration, isDuration, parseDuration} from '../../src/config/duration.js'
import {FORMATS} from '../../src/config/formats.js'
import {cidrContains, formatCidr, isNetworkAddress, parseCidr, parseIp} from '../../src/config/ip.js'
import {formatProblem, pointer, sortProblems, type Problem} from '../../src/config/problems.js'
import {parseYaml, positionOf} from '../../src/config/yaml-source.js'

const cidr = (text: string) => {
  const c = parseCidr(text)
  if (!c) throw new Error(`test CIDR ${text} does not parse`)
  return c
}

describe('durations', () => {
  it.each([
    ['0ms', 0],
    ['500ms', 500],
    ['1s', 1000],
    ['5s', 5000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['300s', 300_000],
    ['999999999ms', 999_999_999],
  ])('parses %s as %d ms', (text, ms) => {
    expect(isDuration(text)).toBe(true)
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', '5', 'ms', '1.5s', '-1s', '+1s', '5S', '5 s', ' 5s', '5s ', '1d', '1w', '1h30m', '5sec', '1e3ms', '0x10s', '1000000000ms'])('rejects %j', (text) => {
    expect(isDuration(text)).toBe(false)
    expect(() => parseDuration(text)).toThrow(/invalid duration .*whole number followed by ms, s, m or h/)
  })

  it.each([
    [0, '0ms'],
    [1, '1ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1500ms'],
    [5000, '5s'],
    [90_000, '90s'],
    [120_000, '2m'],
    [3_600_000, '1h'],
    [5_400_000, '90m'],
    [86_400_000, '24h'],
  ])('formats %d ms as %s (the largest exact unit)', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it('format then parse is the identity', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: 999_999_999}), (ms) => parseDuration(formatDuration(ms)) === ms),
      {numRuns: 500},
    )
  })

  it('parse then format gives an equal duration, never spelled longer (0 aside: always "0ms")', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 99_999}), fc.constantFrom('ms', 's', 'm', 'h'), (n, unit) => {
        const text = formatDuration(parseDuration(`${n}${unit}`))
        return parseDuration(text) === parseDuration(`${n}${unit}`) && text.length <= `${n}${unit}`.length
      }),
    )
  })
})

describe('parseIp', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['192.168.1.10', '192.168.1.10'],
  ])('accepts IPv4 %s', (text, canonical) => {
    expect(parseIp(text)).toEqual({address: canonical, family: 4, bytes: canonical.split('.').map(Number)})
  })

  it.each([
    ['::1', '::1'],
    ['::', '::'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80::1', 'fe80::1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ])('accepts IPv6 %s in canonical form %s', (text, canonical) => {
    const ip = parseIp(text)
    expect(ip?.address).toBe(canonical)
    expect(ip?.family).toBe(6)
    expect(ip?.bytes).toHaveLength(16)
  })

  it.each([
    ['1.2.3', 'three parts'],
    ['1.2', 'two parts'],
    ['16909060', 'one 32-bit number'],
    ['1.2.3.4.5', 'five parts'],
    ['010.1.1.1', 'leading zero (octal in inet_aton)'],
    ['1.2.3.04', 'leading zero in the last part'],
    ['0x0a.0.0.1', 'hexadecimal part'],
    ['1.2.3.256', 'part over 255'],
    ['-1.2.3.4', 'negative part'],
    [' 1.2.3.4', 'leading space'],
    ['1.2.3.4 ', 'trailing space'],
    ['1.2.3.4/24', 'prefix length'],
    ['::ffff:10.0.0.1', 'IPv4-mapped IPv6 (would alias an IPv4 address)'],
    ['::ffff:a00:1', 'IPv4-mapped IPv6 in hex'],
    ['fe80::1%eth0', 'zone index'],
    ['[::1]', 'brackets'],
    ['1:2:3:4:5:6:7:8:9', 'nine groups'],
    ['2001:db8:::1', 'triple colon'],
    ['', 'empty'],
    ['localhost', 'host name'],
  ])('rejects %j (%s)', (text) => {
    expect(parseIp(text)).toBeUndefined()
  })
})

describe('parseCidr', () => {
  it('parses IPv4 and IPv6 with prefix lengths and canonicalises the address', () => {
    expect(parseCidr('192.168.1.10/24')).toEqual({address: '192.168.1.10', prefixLength: 24, family: 4})
    expect(parseCidr('10.0.0.1/32')).toEqual({address: '10.0.0.1', prefixLength: 32, family: 4})
    expect(parseCidr('0.0.0.0/0')).toEqual({address: '0.0.0.0', prefixLength: 0, family: 4})
    expect(parseCidr('2001:DB8:0::10/64')).toEqual({address: '2001:db8::10', prefixLength: 64, family: 6})
    expect(parseCidr('::/0')).toEqual({address: '::', prefixLength: 0, family: 6})
    expect(parseCidr('::1/128')).toEqual({address: '::1', prefixLength: 128, family: 6})
  })

  it.each(['192.168.1.10', '192.168.1.10/', '192.168.1.10/33', '::1/129', '10.0.0.1/-1', '10.0.0.1/ 8', '10.0.0.1/8.0', '10.0.0.1/255.0.0.0', '10.0.1/24', '/24', '10.0.0.1/24/8', 'fe80::1%eth0/64'])(
    'rejects %j',
    (text) => {
      expect(parseCidr(text)).toBeUndefined()
    },
  )

  it('formatCidr writes it back', () => {
    expect(formatCidr(cidr('2001:0db8::0010/64'))).toBe('2001:db8::10/64')
    expect(formatCidr(cidr('10.1.2.3/16'))).toBe('10.1.2.3/16')
  })
})

describe('cidrContains', () => {
  it.each([
    ['10.0.0.0/24', '10.0.0.0', true],
    ['10.0.0.0/24', '10.0.0.255', true],
    ['10.0.0.0/24', '10.0.1.0', false],
    ['10.0.0.0/24', '9.255.255.255', false],
    ['10.0.0.0/23', '10.0.1.200', true],
    ['10.0.0.0/23', '10.0.2.1', false],
    ['10.0.0.0/25', '10.0.0.127', true],
    ['10.0.0.0/25', '10.0.0.128', false],
    ['10.0.0.7/24', '10.0.0.200', true], // host bits of the network are ignored
    ['10.0.0.1/32', '10.0.0.1', true],
    ['10.0.0.1/32', '10.0.0.2', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['2001:db8::/64', '2001:db8::ffff:1', true],
    ['2001:db8::/64', '2001:db8:0:1::1', false],
    ['2001:db8::/64', '2001:DB8::1', true],
    ['::/0', '2001:db8::1', true],
    ['::/0', '10.0.0.1', false], // no family mixing
    ['0.0.0.0/0', '::1', false],
    ['10.0.0.0/8', 'not an address', false],
  ])('%s contains %s: %s', (net, address, expected) => {
    expect(cidrContains(cidr(net), address)).toBe(expected)
  })
})

describe('isNetworkAddress', () => {
  it.each([
    ['192.168.1.0/24', true],
    ['192.168.1.10/24', false],
    ['10.0.0.0/8', true],
    ['10.1.0.0/8', false],
    ['192.168.1.4/30', true],
    ['192.168.1.5/30', false],
    ['192.168.1.240/28', true],
    ['192.168.1.0/31', false], // RFC 3021 point-to-point: both addresses are hosts
    ['192.168.1.0/32', false],
    ['0.0.0.0/0', true],
    ['2001:db8::/64', true],
    ['2001:db8::1/64', false],
    ['2001:db8::/127', false],
    ['2001:db8::/128', false],
  ])('%s: %s', (text, expected) => {
    expect(isNetworkAddress(cidr(text))).toBe(expected)
  })
})

describe('string formats', () => {
  const valid = (format: string, v: string) => FORMATS[format].validate(v)

  it('interface names: 1 to 15 characters of [A-Za-z0-9_.:-]', () => {
    for (const ok of ['eth0', 'e', 'bond0.100', 'eth0:1', 'br-lan_2', 'a'.repeat(15)]) expect([ok, valid('interface-name', ok)]).toEqual([ok, true])
    for (const bad of ['', 'a'.repeat(16), 'eth 0', 'eth/0', 'eth0%', 'ëth0']) expect([bad, valid('interface-name', bad)]).toEqual([bad, false])
  })

  it('cluster names: DNS-label style, lower case', () => {
    for (const ok of ['fs', 'fs-prod', 'a', '0', 'a'.repeat(63)]) expect([ok, valid('cluster-name', ok)]).toEqual([ok, true])
    for (const bad of ['', 'Fs', 'fs_prod', '-fs', 'fs-', 'fs.prod', 'a'.repeat(64)]) expect([bad, valid('cluster-name', bad)]).toEqual([bad, false])
  })

  it('node names', () => {
    for (const ok of ['fs1', 'FS1', 'node-01.example', 'n_1', 'a'.repeat(63)]) expect([ok, valid('node-name', ok)]).toEqual([ok, true])
    for (const bad of ['', '-fs', '.fs', 'fs 1', 'fs/1', 'a'.repeat(64)]) expect([bad, valid('node-name', bad)]).toEqual([bad, false])
  })

  it('NATS URLs', () => {
    for (const ok of ['nats://10.0.0.1:4222', 'tls://nats.example:4222', 'ws://h:80', 'wss://h', 'nats://[2001:db8::1]:4222', 'nats://10.0.0.1:4222/']) expect([ok, valid('nats-url', ok)]).toEqual([ok, true])
    for (const bad of ['', '10.0.0.1:4222', 'http://10.0.0.1:4222', 'nats://', 'nats://10.0.0.1:4222/x', 'nats://h:99999']) expect([bad, valid('nats-url', bad)]).toEqual([bad, false])
  })

  it('static routes: NET/MASK or NET/MASK@GATEWAY', () => {
    for (const ok of ['0.0.0.0/0', '10.1.0.0/16@10.0.0.254', '2001:db8::/48', '2001:db8::/48@2001:db8::1']) expect([ok, valid('static-route', ok)]).toEqual([ok, true])
    for (const bad of ['', '10.1.0.0', '10.1.0.0/16@', '10.1.0.0/16@10.0.0.254@1.1.1.1', '@10.0.0.254', '10.1.0.0/16@10.0.0.0/8']) expect([bad, valid('static-route', bad)]).toEqual([bad, false])
  })

  it('absolute paths and durations', () => {
    expect(['/', '/etc/x', '/a b'].map((v) => valid('absolute-path', v))).toEqual([true, true, true])
    expect(['', 'etc/x', './x', '~/x', '/a\0b'].map((v) => valid('absolute-path', v))).toEqual([false, false, false, false, false])
    expect(['5s', '5', '5.0s'].map((v) => valid('duration', v))).toEqual([true, false, false])
  })

  it('every format explains what it expects', () => {
    for (const [name, def] of Object.entries(FORMATS)) expect([name, def.expected.length > 10]).toEqual([name, true])
  })
})

describe('problems', () => {
  const p = (line: number, column: number, message: string, ptr = '/x'): Problem => ({severity: 'error', rule: 'r', message, pointer: ptr, line, column})

  it('render as FILE:LINE:COL: SEVERITY: MESSAGE (at POINTER), "/" for the whole document', () => {
    expect(formatProblem('a.yaml', p(3, 7, 'boom', '/spec/nodes/0'))).toBe('a.yaml:3:7: error: boom (at /spec/nodes/0)')
    expect(formatProblem('a.yaml', {...p(1, 1, 'empty', ''), severity: 'warning'})).toBe('a.yaml:1:1: warning: empty (at /)')
  })

  it('sort by line, then column, then message, without touching the input', () => {
    const input = [p(3, 1, 'c'), p(1, 9, 'b'), p(1, 2, 'z'), p(1, 2, 'a'), p(10, 1, 'd')]
    const copy = [...input]
    expect(sortProblems(input).map((x) => `${x.line}:${x.column}:${x.message}`)).toEqual(['1:2:a', '1:2:z', '1:9:b', '3:1:c', '10:1:d'])
    expect(input).toEqual(copy)
  })

  it('escape pointer tokens as RFC 6901 says', () => {
    expect(pointer('spec', 'nodes', 0, 'name')).toBe('/spec/nodes/0/name')
    expect(pointer('a/b', 'c~d')).toBe('/a~1b/c~0d')
    expect(pointer()).toBe('')
  })
})

describe('positionOf', () => {
  const text = [
    '# comment', // 1
    'top:', // 2
    '  a/b: 1', // 3
    '  "t~x": two', // 4
    '  list:', // 5
    '    - first', // 6
    '    - {k: v, n: [x, y]}', // 7
    '  anchor: &A {deep: 3}', // 8
    '  ref: *A', // 9
    'last: end', // 10
    '',
  ].join('\n')
  const {source, problems} = parseYaml(text)
  const at = (ptr: string, key = false) => {
    const {line, column} = positionOf(source, ptr, key)
    return `${line}:${column}`
  }

  it('parses the sample', () => {
    expect(problems).toEqual([])
  })

  it('locates values', () => {
    expect(at('')).toBe('2:1')
    expect(at('/top')).toBe('3:3')
    expect(at('/top/list/0')).toBe('6:7')
    expect(at('/top/list/1')).toBe('7:7')
    expect(at('/top/list/1/k')).toBe('7:11')
    expect(at('/top/list/1/n/1')).toBe('7:21')
    expect(at('/last')).toBe('10:7')
  })

  it('locates keys when asked', () => {
    expect(at('/top', true)).toBe('2:1')
    expect(at('/top/list/1/n', true)).toBe('7:14')
    expect(at('/last', true)).toBe('10:1')
  })

  it('unescapes ~1 and ~0 in pointer tokens', () => {
    expect(at('/top/a~1b')).toBe('3:8')
    expect(at('/top/a~1b', true)).toBe('3:3')
    expect(at('/top/t~0x')).toBe('4:10')
  })

  it('follows aliases to their anchor', () => {
    expect(at('/top/ref/deep')).toBe('8:21')
  })

  it('falls back to the closest existing ancestor for missing paths', () => {
    expect(at('/top/nope')).toBe('3:3')
    expect(at('/top/nope/deeper', true)).toBe('3:3')
    expect(at('/top/list/5')).toBe('6:5')
    expect(at('/top/list/x')).toBe('6:5')
    expect(at('/top/a~1b/below')).toBe('3:8') // below a scalar
    expect(at('/missing')).toBe('2:1')
  })

  it('answers 1:1 when there is no document', () => {
    const empty = parseYaml('')
    expect(empty.problems.map((x) => x.rule)).toEqual(['yaml.empty'])
    expect(positionOf(empty.source, '/spec/nodes')).toEqual({line: 1, column: 1})
  })
})

describe('fixes found by review', () => {
  test('the network-address hint is the first host of the network', async () => {
    const {firstHost, parseCidr} = await import('../../src/config/ip.js')
    expect(firstHost(parseCidr('192.168.1.240/28')!)).toBe('192.168.1.241')
    expect(firstHost(parseCidr('192.168.1.20/30')!)).toBe('192.168.1.21')
    expect(firstHost(parseCidr('10.0.0.0/8')!)).toBe('10.0.0.1')
    expect(firstHost(parseCidr('2001:db8::/64')!)).toBe('2001:db8::1')
  })

  test('a prefix length with leading zeros is not a CIDR', async () => {
    const {parseCidr} = await import('../../src/config/ip.js')
    expect(parseCidr('10.0.0.1/024')).toBeUndefined()
    expect(parseCidr('10.0.0.1/0')).toBeDefined()
  })

  test('a NATS URL with a query or fragment is rejected', async () => {
    const {FORMATS} = await import('../../src/config/formats.js')
    expect(FORMATS['nats-url'].validate('nats://h:4222?x=1')).toBe(false)
    expect(FORMATS['nats-url'].validate('nats://h:4222#f')).toBe(false)
    expect(FORMATS['nats-url'].validate('nats://h:4222')).toBe(true)
  })
})
