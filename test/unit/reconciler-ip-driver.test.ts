// The iproute2 driver's argv and output handling, with a scripted command runner (the real
// commands run in test/system/ip-reconciler.test.ts).
import {Iproute2Driver, parseIpAddrJson, parseIpLinkJson, type CommandResult} from '../../src/reconciler/drivers/iproute2-driver.js'
import {IpCommandError, MissingToolError} from '../../src/reconciler/drivers/ip-driver.js'

type Reply = CommandResult | Error | ((argv: readonly string[]) => CommandResult)

/** A runner answering by the first matching pattern; records every argv. */
function scripted(rules: [RegExp, Reply][]) {
  const seen: string[][] = []
  const run = async (argv: readonly string[]) => {
    seen.push([...argv])
    const line = argv.join(' ')
    const rule = rules.find(([re]) => re.test(line))
    if (!rule) return {code: 0, stdout: '', stderr: ''}
    const reply = rule[1]
    if (reply instanceof Error) throw reply
    return typeof reply === 'function' ? reply(argv) : reply
  }
  return {seen, run}
}
const ok = (stdout = ''): CommandResult => ({code: 0, stdout, stderr: ''})
const fail = (stderr: string, code = 2): CommandResult => ({code, stdout: '', stderr})

const ADDR_JSON = JSON.stringify([
  {ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], link_type: 'loopback', address: '00:00:00:00:00:00', addr_info: [{family: 'inet', local: '127.0.0.1', prefixlen: 8}]},
  {
    ifname: 'eth1',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    link_type: 'ether',
    address: '7e:1a:58:d5:79:0e',
    addr_info: [
      {family: 'inet', local: '10.0.1.101', prefixlen: 24},
      {family: 'inet', local: '10.0.1.102', prefixlen: 24, secondary: true},
      {family: 'inet6', local: 'fd00:1:0:0::10', prefixlen: 64, tentative: true},
      {family: 'inet6', local: 'fe80::1', prefixlen: 64, dadfailed: true},
    ],
  },
  {ifname: 'eth2', flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'], link_type: 'ether', address: '7e:00:00:00:00:02', addr_info: []},
  {ifname: 'eth3', flags: ['BROADCAST', 'MULTICAST'], link_type: 'ether', address: '7e:00:00:00:00:03'},
])

test('ip -j addr show is parsed: families, canonical IPv6, flags', () => {
  expect(parseIpAddrJson(ADDR_JSON)).toEqual([
    {interface: 'lo', address: '127.0.0.1', prefixLength: 8, family: 4},
    {interface: 'eth1', address: '10.0.1.101', prefixLength: 24, family: 4},
    {interface: 'eth1', address: '10.0.1.102', prefixLength: 24, family: 4, secondary: true},
    {interface: 'eth1', address: 'fd00:1::10', prefixLength: 64, family: 6, tentative: true},
    {interface: 'eth1', address: 'fe80::1', prefixLength: 64, family: 6, dadFailed: true},
  ])
})

test('ip -j link show is parsed: up needs UP and LOWER_UP (carrier)', () => {
  expect(parseIpLinkJson(ADDR_JSON)).toEqual([
    {name: 'lo', up: true, adminUp: true, carrier: true},
    {name: 'eth1', up: true, adminUp: true, carrier: true, mac: '7e:1a:58:d5:79:0e'},
    {name: 'eth2', up: false, adminUp: true, carrier: false, mac: '7e:00:00:00:00:02'},
    {name: 'eth3', up: false, adminUp: false, carrier: false, mac: '7e:00:00:00:00:03'},
  ])
})

test('with netns every command is prefixed by ip netns exec NS', async () => {
  const s = scripted([[/-j addr show$/, ok(ADDR_JSON)]])
  const d = new Iproute2Driver({netns: 'ct01-n0', run: s.run})
  await d.listAddresses()
  await d.linkStates()
  expect(s.seen).toEqual([
    ['ip', 'netns', 'exec', 'ct01-n0', 'ip', '-j', 'addr', 'show'],
    ['ip', 'netns', 'exec', 'ct01-n0', 'ip', '-j', 'link', 'show'],
  ])
})

test('IPv4 add uses brd +; "already assigned" counts as success', async () => {
  const s = scripted([[/addr add/, fail('Error: ipv4: Address already assigned.')]])
  const d = new Iproute2Driver({run: s.run})
  await d.addAddress({address: '10.0.1.101', prefixLength: 24, family: 4, interface: 'eth1'})
  expect(s.seen).toEqual([['ip', 'addr', 'add', '10.0.1.101/24', 'brd', '+', 'dev', 'eth1']])
})

test('a refused add rejects with the command and its message', async () => {
  const s = scripted([[/addr add/, fail('Cannot find device "eth7"', 1)]])
  const d = new Iproute2Driver({run: s.run})
  const p = d.addAddress({address: '10.0.1.101', prefixLength: 24, family: 4, interface: 'eth7'})
  await expect(p).rejects.toBeInstanceOf(IpCommandError)
  await expect(p).rejects.toThrow('ip addr add 10.0.1.101/24 brd + dev eth7 failed (exit 1): Cannot find device "eth7"')
})

test('IPv6 add waits for duplicate address detection to finish', async () => {
  let polls = 0
  const s = scripted([
    [
      /-j -6 addr show dev eth1/,
      () => {
        polls++
        return ok(JSON.stringify([{ifname: 'eth1', addr_info: [{family: 'inet6', local: 'fd00:1::10', prefixlen: 64, tentative: polls < 3}]}]))
      },
    ],
  ])
  const d = new Iproute2Driver({run: s.run})
  await d.addAddress({address: 'fd00:1::10', prefixLength: 64, family: 6, interface: 'eth1'})
  expect(s.seen[0]).toEqual(['ip', 'addr', 'add', 'fd00:1::10/64', 'dev', 'eth1'])
  expect(polls).toBe(3)
})

test('IPv6 DAD failure removes the address and rejects', async () => {
  const s = scripted([[/-j -6 addr show dev eth1/, ok(JSON.stringify([{ifname: 'eth1', addr_info: [{family: 'inet6', local: 'fd00:1::10', prefixlen: 64, tentative: true, dadfailed: true}]}]))]])
  const d = new Iproute2Driver({run: s.run})
  await expect(d.addAddress({address: 'fd00:1::10', prefixLength: 64, family: 6, interface: 'eth1'})).rejects.toThrow(/duplicate address detection failed/)
  expect(s.seen.at(-1)).toEqual(['ip', 'addr', 'del', 'fd00:1::10/64', 'dev', 'eth1'])
})

test('IPv6 add without DAD uses nodad and does not wait', async () => {
  const s = scripted([])
  const d = new Iproute2Driver({run: s.run, ipv6Dad: false})
  await d.addAddress({address: 'fd00:1::10', prefixLength: 64, family: 6, interface: 'eth1'})
  expect(s.seen).toEqual([['ip', 'addr', 'add', 'fd00:1::10/64', 'dev', 'eth1', 'nodad']])
})

test('removing a primary IPv4 address puts back the secondaries the kernel dropped with it', async () => {
  let shows = 0
  const s = scripted([
    [
      /-j -4 addr show dev eth1/,
      () =>
        ok(
          JSON.stringify([
            {
              ifname: 'eth1',
              addr_info:
                shows++ === 0
                  ? [
                      {family: 'inet', local: '10.0.1.101', prefixlen: 24},
                      {family: 'inet', local: '10.0.1.102', prefixlen: 24, secondary: true},
                    ]
                  : [],
            },
          ]),
        ),
    ],
  ])
  const d = new Iproute2Driver({run: s.run})
  await d.removeAddress({address: '10.0.1.101', prefixLength: 24, family: 4, interface: 'eth1'})
  expect(s.seen).toEqual([
    ['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth1'],
    ['ip', 'addr', 'del', '10.0.1.101/24', 'dev', 'eth1'],
    ['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth1'],
    ['ip', 'addr', 'add', '10.0.1.102/24', 'brd', '+', 'dev', 'eth1'],
  ])
})

test('removing an address that is already gone succeeds without deleting anything', async () => {
  const s = scripted([[/-j -4 addr show dev eth1/, ok(JSON.stringify([{ifname: 'eth1', addr_info: [{family: 'inet', local: '10.0.1.1', prefixlen: 24}]}]))]])
  const d = new Iproute2Driver({run: s.run})
  await d.removeAddress({address: '10.0.1.101', prefixLength: 24, family: 4, interface: 'eth1'})
  expect(s.seen).toHaveLength(1)
  const v6 = scripted([[/addr del/, fail('Error: ipv6: address not found.')]])
  await new Iproute2Driver({run: v6.run}).removeAddress({address: 'fd00:1::10', prefixLength: 64, family: 6, interface: 'eth1'})
})

describe('announce', () => {
  const habetsHelp = ok('ARPing 2.23, by Thomas Habets <thomas@habets.se>\nusage: arping ...')
  const habetsSent = fail('', 1)
  habetsSent.stdout = 'ARPING 10.0.1.101\n\n--- 10.0.1.101 statistics ---\n1 packets transmitted, 0 packets received, 100% unanswered (0 extra)\n'

  test("Thomas Habets' arping: a request and a reply, exit 1 (no answer) is fine when a packet went out", async () => {
    const s = scripted([
      [/arping --help/, habetsHelp],
      [/arping -U/, habetsSent],
    ])
    const d = new Iproute2Driver({run: s.run, netns: 'ns1'})
    await d.announce({address: '10.0.1.101', family: 4, interface: 'eth1'})
    await d.announce({address: '10.0.1.101', family: 4, interface: 'eth1'})
    expect(s.seen).toEqual([
      ['ip', 'netns', 'exec', 'ns1', 'arping', '--help'],
      ['ip', 'netns', 'exec', 'ns1', 'arping', '-U', '-S', '10.0.1.101', '-c', '1', '-w', '0', '-i', 'eth1', '10.0.1.101'],
      ['ip', 'netns', 'exec', 'ns1', 'arping', '-U', '-P', '-S', '10.0.1.101', '-c', '1', '-w', '0', '-i', 'eth1', '10.0.1.101'],
      ['ip', 'netns', 'exec', 'ns1', 'arping', '-U', '-S', '10.0.1.101', '-c', '1', '-w', '0', '-i', 'eth1', '10.0.1.101'],
      ['ip', 'netns', 'exec', 'ns1', 'arping', '-U', '-P', '-S', '10.0.1.101', '-c', '1', '-w', '0', '-i', 'eth1', '10.0.1.101'],
    ])
  })

  test("Thomas Habets' arping that sent nothing is an error", async () => {
    const s = scripted([
      [/arping --help/, habetsHelp],
      [/arping -U/, fail('arping: libnet_init(LIBNET_LINK, eth9): libnet_check_iface() ioctl: No such device', 1)],
    ])
    await expect(new Iproute2Driver({run: s.run}).announce({address: '10.0.1.101', family: 4, interface: 'eth9'})).rejects.toThrow(/No such device/)
  })

  test('iputils arping: -U then -A with -I', async () => {
    const s = scripted([[/arping --help/, fail('arping: invalid option -- \'-\'\nUsage:\n  arping [options] <destination>', 2)]])
    const d = new Iproute2Driver({run: s.run})
    await d.announce({address: '10.0.1.101', family: 4, interface: 'eth1'})
    expect(s.seen.slice(1)).toEqual([
      ['arping', '-U', '-c', '1', '-I', 'eth1', '10.0.1.101'],
      ['arping', '-A', '-c', '1', '-I', 'eth1', '10.0.1.101'],
    ])
  })

  test('IPv6: one unsolicited neighbour advertisement with na6', async () => {
    const s = scripted([])
    await new Iproute2Driver({run: s.run}).announce({address: 'fd00:1::10', family: 6, interface: 'eth1'})
    expect(s.seen).toEqual([['na6', '-i', 'eth1', '-s', 'fd00:1::10', '-d', 'ff02::1', '-t', 'fd00:1::10', '-o', '-e']])
  })

  test('a missing tool names its Debian package, with or without netns', async () => {
    const enoent = Object.assign(new Error('spawn na6 ENOENT'), {code: 'ENOENT'})
    const direct = scripted([[/^na6/, enoent]])
    await expect(new Iproute2Driver({run: direct.run}).announce({address: 'fd00:1::10', family: 6, interface: 'eth1'})).rejects.toThrow(
      new MissingToolError('na6', 'ipv6toolkit'),
    )
    const inNs = scripted([[/na6/, fail('exec of "na6" failed: No such file or directory', 1)]])
    await expect(new Iproute2Driver({run: inNs.run, netns: 'x'}).announce({address: 'fd00:1::10', family: 6, interface: 'eth1'})).rejects.toThrow(
      'the "na6" command is missing: install the Debian package ipv6toolkit',
    )
  })
})
