// The LVS reconciler against CTDB's 91.lvs (helpers-spec.md §2.4). This kernel has no IPVS, so
// the exact ipvsadm command sequence of every transition is checked through a recording driver
// (and a simulated IPVS table), as the acceptance asks.
import type {LvsGroup, NodeConfig} from '../../src/config/model.js'
import type {ClusterState, NodeFlag} from '../../src/cluster/state.js'
import {
  IPVSADM_MISSING,
  LvsReconciler,
  lvsDesired,
  planLvsIpreallocated,
  planLvsShutdown,
  planLvsStartup,
  type LvsDesired,
} from '../../src/reconciler/lvs/index.js'
import {describeOp, type HostOp, type ReconcileLogger} from '../../src/reconciler/natgw/index.js'
import {ipvsadmArgs} from '../../src/reconciler/drivers/ipvsadm-driver.js'
import {FakeHost} from './reconciler-natgw-fakehost.js'

// CTDB's fixture (91.lvs.ipreallocated.01x): this node 192.168.1.1, others .2 and .3; LVS 10.1.1.201 on eth0.
const NODES: NodeConfig[] = [1, 2, 3, 4].map((last, pnn) => ({
  pnn,
  name: `n${pnn}`,
  address: `192.168.1.${last}`,
  family: 4,
  capabilities: {leader: true, lmaster: true},
  deleted: false,
}))

const GROUP: LvsGroup = {name: 'web', address: '10.1.1.201', family: 4, interface: 'eth0', nodes: [0, 1, 2].map((pnn) => ({pnn, followerOnly: false}))}

const state = (flags: Record<number, NodeFlag[]> = {}): ClusterState => ({
  cluster: 'c',
  nodes: NODES.map((n) => ({pnn: n.pnn, flags: flags[n.pnn] ?? []})),
  publicAddresses: [],
})

const show = (ops: readonly HostOp[]) => ops.map(describeOp)

const IP = '10.1.1.201'
const PREAMBLE = [`ipvsadm -D -t ${IP}`, `ipvsadm -D -u ${IP}`, `kill_tcp_connections_local_only eth0 ${IP}`]
const FOLLOWER = [...PREAMBLE, `ip addr del ${IP}/32 dev lo`, `ip addr add ${IP}/32 dev lo scope host`]
const leaderSeq = (servers: string[]) => [
  ...PREAMBLE,
  `ip addr del ${IP}/32 dev lo`,
  `ip addr add ${IP}/32 dev lo`,
  `ipvsadm -A -t ${IP} -p 1999999 -s lc`,
  `ipvsadm -A -u ${IP} -p 1999999 -s lc`,
  ...servers.flatMap((s) => [`ipvsadm -a -t ${IP} -r ${s} -g`, `ipvsadm -a -u ${IP} -r ${s} -g`]),
  `ipvsadm -a -t ${IP} -r 127.0.0.1`,
  `ipvsadm -a -u ${IP} -r 127.0.0.1`,
  `ctdb gratarp ${IP} eth0`,
  'set_proc_maybe net/ipv4/route/flush 1',
  'set_proc_maybe net/ipv6/route/flush 1',
]

/** The ipvsadm argv a reconciler on a simulated host ran for one ipreallocated. */
async function ipvsadmRun(d: LvsDesired, host = new FakeHost()): Promise<{argv: string[][]; host: FakeHost}> {
  const before = host.calls.length
  await new LvsReconciler({netns: `n${d.thisPnn}`, runner: host.runner}).ipreallocated(d)
  return {argv: host.calls.slice(before).filter((c) => c[0] === 'ipvsadm' && c[1] !== '--version'), host}
}

describe('planLvs: exact 91.lvs sequences', () => {
  test('startup: services deleted silently, host-scope address on lo, ARP sysctls', () => {
    const ops = planLvsStartup(GROUP)
    expect(show(ops)).toEqual([
      `ipvsadm -D -t ${IP}`,
      `ipvsadm -D -u ${IP}`,
      `ip addr add ${IP}/32 dev lo scope host`,
      'set_proc_maybe net/ipv4/conf/all/arp_ignore 3',
      'set_proc_maybe net/ipv4/conf/all/arp_announce 2',
    ])
    expect(ops.filter((o) => o.quiet).map(describeOp)).toEqual([`ipvsadm -D -t ${IP}`, `ipvsadm -D -u ${IP}`])
  })

  test('ipreallocated as the new leader: services, every other usable member direct-routed, itself local, gratuitous ARP', () => {
    const d = lvsDesired(GROUP, NODES, state(), 0)
    expect(d).toEqual({group: GROUP, thisPnn: 0, leader: 0, servers: [0, 1, 2].map((pnn) => ({pnn, address: NODES[pnn].address}))})
    const ops = planLvsIpreallocated(d)
    expect(show(ops)).toEqual(leaderSeq(['192.168.1.2', '192.168.1.3']))
    // Silenced in CTDB's script: the deletes, the lo address changes, the gratuitous ARP.
    expect(ops.filter((o) => o.quiet).map(describeOp)).toEqual([
      `ipvsadm -D -t ${IP}`,
      `ipvsadm -D -u ${IP}`,
      `ip addr del ${IP}/32 dev lo`,
      `ip addr add ${IP}/32 dev lo`,
      `ctdb gratarp ${IP} eth0`,
    ])
  })

  test('ipreallocated as a follower: the address back to host scope, nothing else', () => {
    expect(show(planLvsIpreallocated(lvsDesired(GROUP, NODES, state(), 1)))).toEqual(FOLLOWER)
  })

  test('no leader (every member DISABLED): every node behaves as a follower', () => {
    const d = lvsDesired(GROUP, NODES, state({0: ['DISABLED'], 1: ['DISABLED'], 2: ['DISABLED']}), 0)
    expect(d.leader).toBeNull()
    expect(show(planLvsIpreallocated(d))).toEqual(FOLLOWER)
  })

  test('member joins: a reconnected node becomes a real server again', () => {
    const before = lvsDesired(GROUP, NODES, state({2: ['DISCONNECTED']}), 0)
    expect(show(planLvsIpreallocated(before))).toEqual(leaderSeq(['192.168.1.2']))
    const after = lvsDesired(GROUP, NODES, state(), 0)
    expect(show(planLvsIpreallocated(after))).toEqual(leaderSeq(['192.168.1.2', '192.168.1.3']))
  })

  test('member becomes unhealthy: dropped while healthy members exist; all unhealthy: all kept (pass 2)', () => {
    expect(show(planLvsIpreallocated(lvsDesired(GROUP, NODES, state({1: ['UNHEALTHY']}), 0)))).toEqual(leaderSeq(['192.168.1.3']))
    const all = lvsDesired(GROUP, NODES, state({0: ['UNHEALTHY'], 1: ['UNHEALTHY'], 2: ['UNHEALTHY']}), 0)
    expect(all.leader).toBe(0)
    expect(show(planLvsIpreallocated(all))).toEqual(leaderSeq(['192.168.1.2', '192.168.1.3']))
  })

  test('leader lost: the next node leads with the remaining members; the others follow', () => {
    const s = state({0: ['DISCONNECTED']})
    expect(show(planLvsIpreallocated(lvsDesired(GROUP, NODES, s, 1)))).toEqual(leaderSeq(['192.168.1.3']))
    expect(show(planLvsIpreallocated(lvsDesired(GROUP, NODES, s, 2)))).toEqual(FOLLOWER)
  })

  test('follower-only members are real servers but never lead', () => {
    const g: LvsGroup = {...GROUP, nodes: [{pnn: 0, followerOnly: true}, {pnn: 1, followerOnly: false}, {pnn: 2, followerOnly: false}]}
    const d = lvsDesired(g, NODES, state(), 1)
    expect(d.leader).toBe(1)
    expect(show(planLvsIpreallocated(d))).toEqual(leaderSeq(['192.168.1.1', '192.168.1.3']))
    expect(show(planLvsIpreallocated(lvsDesired(g, NODES, state(), 0)))).toEqual(FOLLOWER)
  })

  test('shutdown: services deleted (reported), address removed from lo silently, route caches flushed', () => {
    const ops = planLvsShutdown(GROUP)
    expect(show(ops)).toEqual([
      `ipvsadm -D -t ${IP}`,
      `ipvsadm -D -u ${IP}`,
      `ip addr del ${IP}/32 dev lo`,
      'set_proc_maybe net/ipv4/route/flush 1',
      'set_proc_maybe net/ipv6/route/flush 1',
    ])
    expect(ops.filter((o) => o.quiet).map(describeOp)).toEqual([`ip addr del ${IP}/32 dev lo`])
  })

  test('IPv6 LVS address: bracketed for ipvsadm, /128 on lo, ::1 as the local server', () => {
    expect(ipvsadmArgs.addRealServer('tcp', 'fd00::1', 'fd00::2')).toEqual(['-a', '-t', '[fd00::1]', '-r', '[fd00::2]', '-g'])
    expect(ipvsadmArgs.addLocalServer('udp', 'fd00::1')).toEqual(['-a', '-u', '[fd00::1]', '-r', '[::1]'])
    const g: LvsGroup = {...GROUP, address: 'fd00::1', family: 6}
    expect(show(planLvsStartup(g))[2]).toBe('ip addr add fd00::1/128 dev lo scope host')
  })
})

describe('LvsReconciler through a recording ipvsadm driver', () => {
  test('new leader: the exact ipvsadm argv, and the resulting table is CTDB test 014\'s', async () => {
    const {argv, host} = await ipvsadmRun(lvsDesired(GROUP, NODES, state(), 0))
    expect(argv).toEqual([
      ['ipvsadm', '-D', '-t', IP],
      ['ipvsadm', '-D', '-u', IP],
      ['ipvsadm', '-A', '-t', IP, '-p', '1999999', '-s', 'lc'],
      ['ipvsadm', '-A', '-u', IP, '-p', '1999999', '-s', 'lc'],
      ['ipvsadm', '-a', '-t', IP, '-r', '192.168.1.2', '-g'],
      ['ipvsadm', '-a', '-u', IP, '-r', '192.168.1.2', '-g'],
      ['ipvsadm', '-a', '-t', IP, '-r', '192.168.1.3', '-g'],
      ['ipvsadm', '-a', '-u', IP, '-r', '192.168.1.3', '-g'],
      ['ipvsadm', '-a', '-t', IP, '-r', '127.0.0.1'],
      ['ipvsadm', '-a', '-u', IP, '-r', '127.0.0.1'],
    ])
    expect(host.ipvsTable()).toEqual([
      `TCP  ${IP}:0 lc persistent 1999999`,
      '  -> 127.0.0.1:0 Local',
      '  -> 192.168.1.2:0 Route',
      '  -> 192.168.1.3:0 Route',
      `UDP  ${IP}:0 lc persistent 1999999`,
      '  -> 127.0.0.1:0 Local',
      '  -> 192.168.1.2:0 Route',
      '  -> 192.168.1.3:0 Route',
    ])
    expect(host.addrs.get('lo')).toEqual([{address: `${IP}/32`, scope: 'global'}])
    // Kill the local ends of connections to the LVS address; announce it.
    expect(host.commands('ss')).toEqual([`ss -K -t -n -H state established src ${IP}`])
    expect(host.commands('arping')).toEqual([`arping -q -U -S ${IP} -c 3 -W 1 -w 4 -i eth0 ${IP}`])
  })

  test('every transition on one simulated leader host: table rebuilt each time', async () => {
    const host = new FakeHost()
    const rec = new LvsReconciler({netns: 'n0', runner: host.runner})
    await rec.startup(GROUP)
    expect(host.ipvsTable()).toEqual([])
    expect(host.addrs.get('lo')).toEqual([{address: `${IP}/32`, scope: 'host'}])
    expect(host.proc.get('net/ipv4/conf/all/arp_ignore')).toBe('3')
    expect(host.proc.get('net/ipv4/conf/all/arp_announce')).toBe('2')

    /** The TCP service's real servers (the UDP service is checked to be identical). */
    const servers = () => {
      const t = host.ipvsTable()
      const udp = t.indexOf(`UDP  ${IP}:0 lc persistent 1999999`)
      expect(t.slice(udp + 1)).toEqual(t.slice(1, udp))
      return t.slice(1, udp)
    }
    // New leader, node 2 disconnected.
    await rec.ipreallocated(lvsDesired(GROUP, NODES, state({2: ['DISCONNECTED']}), 0))
    expect(servers()).toEqual(['  -> 127.0.0.1:0 Local', '  -> 192.168.1.2:0 Route'])
    // Member joins.
    let before = host.calls.length
    await rec.ipreallocated(lvsDesired(GROUP, NODES, state(), 0))
    expect(host.calls.slice(before).filter((c) => c[0] === 'ipvsadm' && c[1] === '-a').map((c) => c.join(' '))).toEqual([
      `ipvsadm -a -t ${IP} -r 192.168.1.2 -g`,
      `ipvsadm -a -u ${IP} -r 192.168.1.2 -g`,
      `ipvsadm -a -t ${IP} -r 192.168.1.3 -g`,
      `ipvsadm -a -u ${IP} -r 192.168.1.3 -g`,
      `ipvsadm -a -t ${IP} -r 127.0.0.1`,
      `ipvsadm -a -u ${IP} -r 127.0.0.1`,
    ])
    expect(servers()).toEqual(['  -> 127.0.0.1:0 Local', '  -> 192.168.1.2:0 Route', '  -> 192.168.1.3:0 Route'])
    // Member becomes unhealthy.
    before = host.calls.length
    await rec.ipreallocated(lvsDesired(GROUP, NODES, state({1: ['UNHEALTHY']}), 0))
    expect(host.calls.slice(before).filter((c) => c[0] === 'ipvsadm').map((c) => c.join(' '))).toEqual([
      'ipvsadm --version',
      `ipvsadm -D -t ${IP}`,
      `ipvsadm -D -u ${IP}`,
      `ipvsadm -A -t ${IP} -p 1999999 -s lc`,
      `ipvsadm -A -u ${IP} -p 1999999 -s lc`,
      `ipvsadm -a -t ${IP} -r 192.168.1.3 -g`,
      `ipvsadm -a -u ${IP} -r 192.168.1.3 -g`,
      `ipvsadm -a -t ${IP} -r 127.0.0.1`,
      `ipvsadm -a -u ${IP} -r 127.0.0.1`,
    ])
    expect(servers()).toEqual(['  -> 127.0.0.1:0 Local', '  -> 192.168.1.3:0 Route'])
    // Leadership lost (this node is now unhealthy, node 1 healthy again): table emptied, host scope.
    before = host.calls.length
    await rec.ipreallocated(lvsDesired(GROUP, NODES, state({0: ['UNHEALTHY']}), 0))
    expect(host.calls.slice(before).filter((c) => c[0] === 'ipvsadm').map((c) => c.join(' '))).toEqual([
      'ipvsadm --version',
      `ipvsadm -D -t ${IP}`,
      `ipvsadm -D -u ${IP}`,
    ])
    expect(host.ipvsTable()).toEqual([])
    expect(host.addrs.get('lo')).toEqual([{address: `${IP}/32`, scope: 'host'}])
    // Shutdown: nothing left.
    await rec.shutdown()
    expect(host.addrs.get('lo')).toEqual([])
    expect(rec.applied).toBeUndefined()
  })

  test('follower and no-leader hosts: empty table, host scope (CTDB tests 011–013)', async () => {
    for (const d of [lvsDesired(GROUP, NODES, state(), 2), lvsDesired(GROUP, NODES, state({0: ['DISABLED'], 1: ['DISABLED'], 2: ['DISABLED']}), 0)]) {
      const {argv, host} = await ipvsadmRun(d)
      expect(argv).toEqual([
        ['ipvsadm', '-D', '-t', IP],
        ['ipvsadm', '-D', '-u', IP],
      ])
      expect(host.ipvsTable()).toEqual([])
      expect(host.addrs.get('lo')).toEqual([{address: `${IP}/32`, scope: 'host'}])
      expect(host.commands('arping')).toEqual([])
    }
  })

  test('ipvsadm missing: CTDB\'s message, nothing done', async () => {
    const host = new FakeHost()
    host.ipvsadmInstalled = false
    const warnings: string[] = []
    const logger: ReconcileLogger = {info: () => undefined, debug: () => undefined, warn: (_o, m) => warnings.push(m)}
    const r = await new LvsReconciler({runner: host.runner, logger}).ipreallocated(lvsDesired(GROUP, NODES, state(), 0))
    expect(r.ran).toBe(false)
    expect(warnings).toEqual([IPVSADM_MISSING])
    expect(host.calls).toEqual([['ipvsadm', '--version']])
  })

  test('a changed LVS address is torn down with the old values first', async () => {
    const host = new FakeHost()
    const rec = new LvsReconciler({runner: host.runner})
    await rec.startup(GROUP)
    const moved: LvsGroup = {...GROUP, address: '10.1.1.202'}
    const r = await rec.ipreallocated(lvsDesired(moved, NODES, state(), 1))
    expect(show(r.ops)).toEqual([
      ...planLvsShutdown(GROUP).map(describeOp),
      ...FOLLOWER.map((l) => l.replaceAll('10.1.1.201', '10.1.1.202')),
    ])
    expect(host.addrs.get('lo')).toEqual([{address: '10.1.1.202/32', scope: 'host'}])
  })
})
