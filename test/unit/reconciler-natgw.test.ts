// The NAT gateway reconciler against CTDB's 11.natgw (helpers-spec.md §1.5–§1.11): the exact
// operation sequence for every transition, and the host state it leaves (through a simulated host).
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {NatgwGroup, NodeConfig, StaticRoute} from '../../src/config/model.js'
import type {ClusterState, NodeFlag} from '../../src/cluster/state.js'
import {
  describeOp,
  hostDrivers,
  natgwDesired,
  NatgwReconciler,
  planNatgw,
  planNatgwShutdown,
  planNatgwStartup,
  type HostOp,
  type NatgwSnapshot,
  type ReconcileLogger,
} from '../../src/reconciler/natgw/index.js'
import {IptablesDriver, iptablesArgv, natgwTag, splitRuleSpec} from '../../src/reconciler/drivers/iptables-driver.js'
import {SysctlDriver} from '../../src/reconciler/drivers/sysctl-driver.js'
import {FakeHost} from './reconciler-natgw-fakehost.js'

// CTDB's fixture (§1.11): this node pnn 0 = 192.168.1.21; group .21–.24; leader .21 or .22.
const NODES: NodeConfig[] = [21, 22, 23, 24].map((last, pnn) => ({
  pnn,
  name: `n${pnn}`,
  address: `192.168.1.${last}`,
  family: 4,
  capabilities: {leader: true, lmaster: true},
  deleted: false,
}))

const cidr = (text: string) => {
  const [address, bits] = text.split('/')
  return {address, prefixLength: Number(bits), family: 4 as const}
}

function routes(text: string): StaticRoute[] {
  return text.split(' ').map((r) => {
    const [net, gw] = r.split('@')
    return gw ? {destination: cidr(net), gateway: gw} : {destination: cidr(net)}
  })
}

function group(over: {defaultGateway?: string | null; staticRoutes?: string; followerOnly?: number[]; name?: string} = {}): NatgwGroup {
  return {
    name: over.name ?? 'gw',
    publicAddress: cidr('10.1.1.121/24'),
    publicInterface: 'eth1',
    privateNetwork: cidr('192.168.1.0/24'),
    ...(over.defaultGateway === null ? {} : {defaultGateway: over.defaultGateway ?? '10.1.1.254'}),
    staticRoutes: routes(over.staticRoutes ?? '0.0.0.0/0'),
    nodes: NODES.map((n) => ({pnn: n.pnn, followerOnly: (over.followerOnly ?? []).includes(n.pnn)})),
  }
}

const leaderOf = (g: NatgwGroup): NatgwSnapshot => ({group: g, role: 'leader', leaderAddress: '192.168.1.21'})
const followerOf = (g: NatgwGroup, leader = '192.168.1.22'): NatgwSnapshot => ({group: g, role: 'follower', leaderAddress: leader})

const TAG = 'ctdbctl:natgw:gw'
const MASQ = `-s 192.168.1.0/24 ! -d 192.168.1.0/24 -m comment --comment ${TAG} -j MASQUERADE`
const REJECT = `-p tcp --syn -d 10.1.1.121/32 -m comment --comment ${TAG} -j REJECT`

/** The clear sequence (§1.7) with the fixture's values and the given routes. */
const clearOps = (routeNets = ['0.0.0.0/0']) => [
  'set_proc net/ipv4/conf/eth1/promote_secondaries 1',
  'ip addr del 10.1.1.121/24 dev eth1',
  ...routeNets.map((n) => `ip route del ${n} metric 10`),
  `iptables -w -t nat -D POSTROUTING ${MASQ}`,
  `iptables -w -t filter -D INPUT ${REJECT}`,
]
const PURGE = `iptables: delete every rule tagged ${TAG}`
const leaderOps = (routeLines = ['ip route add 0.0.0.0/0 metric 10 via 10.1.1.254']) => [
  'set_proc net/ipv4/ip_forward 1',
  `iptables -w -t nat -A POSTROUTING ${MASQ}`,
  `iptables -w -t filter -D INPUT ${REJECT}`,
  `iptables -w -t filter -I INPUT ${REJECT}`,
  'ip addr add 10.1.1.121/24 dev eth1',
  ...routeLines,
]
const FLUSH = 'set_proc net/ipv4/route/flush 1'

const show = (ops: readonly HostOp[]) => ops.map(describeOp)
const quietOnes = (ops: readonly HostOp[]) => ops.filter((o) => o.quiet).map(describeOp)

/** A reconciler on a simulated host, in a (pretend) namespace. */
function onFakeHost() {
  const host = new FakeHost()
  const warnings: string[] = []
  const logger: ReconcileLogger = {info: () => undefined, debug: () => undefined, warn: (o) => warnings.push((o as {command: string}).command)}
  const rec = new NatgwReconciler({netns: 'n0', runner: host.runner, logger})
  return {host, rec, warnings}
}

describe('planNatgw: exact 11.natgw sequences', () => {
  test('leader (011): clear with current values, sweep, leader setup, route flush', () => {
    const plan = planNatgw(undefined, leaderOf(group()))
    expect(plan).toMatchObject({changed: true, configChanged: true, leaderChanged: true, messages: []})
    expect(show(plan.ops)).toEqual([...clearOps(), PURGE, ...leaderOps(), FLUSH])
    // Everything CTDB runs with output discarded is quiet (failures ignored without a warning).
    expect(quietOnes(plan.ops)).toEqual([...clearOps(), PURGE, `iptables -w -t filter -D INPUT ${REJECT}`, `iptables -w -t filter -I INPUT ${REJECT}`])
  })

  test('follower (012): routes via the leader, no address, no iptables', () => {
    const plan = planNatgw(undefined, followerOf(group()))
    expect(show(plan.ops)).toEqual([...clearOps(), PURGE, 'ip route add 0.0.0.0/0 via 192.168.1.22 metric 10', FLUSH])
  })

  test('leader without default gateway (013): no routes, the address is still added', () => {
    const plan = planNatgw(undefined, leaderOf(group({defaultGateway: null})))
    expect(show(plan.ops)).toEqual([...clearOps(), PURGE, ...leaderOps([]), FLUSH])
  })

  test('follower without default gateway (014): the default route via the leader is still added', () => {
    const plan = planNatgw(undefined, followerOf(group({defaultGateway: null})))
    expect(show(plan.ops)).toEqual([...clearOps(), PURGE, 'ip route add 0.0.0.0/0 via 192.168.1.22 metric 10', FLUSH])
  })

  test('leader → follower (015): clear with the old values, then follower setup', () => {
    const plan = planNatgw(leaderOf(group()), followerOf(group()))
    expect(plan).toMatchObject({changed: true, configChanged: false, leaderChanged: true, messages: []})
    expect(show(plan.ops)).toEqual([...clearOps(), 'ip route add 0.0.0.0/0 via 192.168.1.22 metric 10', FLUSH])
  })

  test('follower → leader (025): clear, then leader setup', () => {
    const plan = planNatgw(followerOf(group()), leaderOf(group()))
    expect(show(plan.ops)).toEqual([...clearOps(), ...leaderOps(), FLUSH])
  })

  test('follower → follower of another leader: routes replaced', () => {
    const plan = planNatgw(followerOf(group(), '192.168.1.22'), followerOf(group(), '192.168.1.23'))
    expect(show(plan.ops)).toEqual([...clearOps(), 'ip route add 0.0.0.0/0 via 192.168.1.23 metric 10', FLUSH])
  })

  test('leader with static routes (021, 023): per-route gateway or the default gateway', () => {
    expect(show(planNatgw(undefined, leaderOf(group({staticRoutes: '10.1.1.0/24 10.1.2.0/24'}))).ops).slice(-3)).toEqual([
      'ip route add 10.1.1.0/24 metric 10 via 10.1.1.254',
      'ip route add 10.1.2.0/24 metric 10 via 10.1.1.254',
      FLUSH,
    ])
    expect(show(planNatgw(undefined, leaderOf(group({staticRoutes: '10.1.1.0/24 10.1.2.0/24@10.1.1.253'}))).ops).slice(-3)).toEqual([
      'ip route add 10.1.1.0/24 metric 10 via 10.1.1.254',
      'ip route add 10.1.2.0/24 metric 10 via 10.1.1.253',
      FLUSH,
    ])
    // No default gateway: only the route with its own gateway is added.
    expect(show(planNatgw(undefined, leaderOf(group({defaultGateway: null, staticRoutes: '10.1.1.0/24 10.1.2.0/24@10.1.1.253'}))).ops).slice(-2)).toEqual([
      'ip route add 10.1.2.0/24 metric 10 via 10.1.1.253',
      FLUSH,
    ])
  })

  test('follower with static routes (022, 024): every route via the leader, @GW ignored', () => {
    const plan = planNatgw(undefined, followerOf(group({staticRoutes: '10.1.1.0/24 10.1.2.0/24@10.1.1.253'})))
    expect(show(plan.ops)).toEqual([
      ...clearOps(['10.1.1.0/24', '10.1.2.0/24']),
      PURGE,
      'ip route add 10.1.1.0/24 via 192.168.1.22 metric 10',
      'ip route add 10.1.2.0/24 via 192.168.1.22 metric 10',
      FLUSH,
    ])
  })

  test('config change with routes (031): message, old routes removed with the old values, new ones added', () => {
    const a = leaderOf(group({staticRoutes: '10.1.1.0/24 10.1.2.0/24'}))
    const b = leaderOf(group({staticRoutes: '10.1.3.0/24'}))
    const plan = planNatgw(a, b)
    expect(plan).toMatchObject({changed: true, configChanged: true, leaderChanged: false, messages: ['NAT gateway configuration has changed']})
    expect(show(plan.ops)).toEqual([...clearOps(['10.1.1.0/24', '10.1.2.0/24']), ...leaderOps(['ip route add 10.1.3.0/24 metric 10 via 10.1.1.254']), FLUSH])
  })

  test('config change of the public address: the old address and old rules are cleared', () => {
    const b = {...group(), publicAddress: cidr('10.1.1.122/24'), privateNetwork: cidr('192.168.0.0/16')}
    const ops = show(planNatgw(leaderOf(group()), leaderOf(b)).ops)
    expect(ops.slice(0, 5)).toEqual(clearOps())
    expect(ops).toContain('ip addr add 10.1.1.122/24 dev eth1')
    expect(ops).toContain(`iptables -w -t nat -A POSTROUTING -s 192.168.0.0/16 ! -d 192.168.0.0/16 -m comment --comment ${TAG} -j MASQUERADE`)
  })

  test('no change in config or leader: nothing at all (idempotent)', () => {
    expect(planNatgw(leaderOf(group()), leaderOf(group()))).toEqual({changed: false, configChanged: false, leaderChanged: false, messages: [], ops: []})
    expect(planNatgw(followerOf(group()), followerOf(group())).ops).toEqual([])
    // Membership alone is not configuration (CTDB records the group file's path, not its content).
    expect(planNatgw(followerOf(group()), followerOf({...group(), nodes: group().nodes.slice(0, 3)})).changed).toBe(false)
  })

  test('startup and shutdown', () => {
    expect(show(planNatgwStartup())).toEqual(['set_proc net/ipv4/conf/all/arp_announce 2'])
    expect(show(planNatgwShutdown(leaderOf(group({staticRoutes: '10.9.0.0/16'}))))).toEqual(clearOps(['10.9.0.0/16']))
    expect(show(planNatgwShutdown(undefined, group()))).toEqual(clearOps())
    expect(planNatgwShutdown(undefined)).toEqual([])
  })
})

describe('natgwDesired: roles from config and cluster state', () => {
  const state = (flags: Record<number, NodeFlag[]> = {}): ClusterState => ({
    cluster: 'c',
    nodes: NODES.map((n) => ({pnn: n.pnn, flags: flags[n.pnn] ?? []})),
    publicAddresses: [],
  })

  test('leader is the first usable candidate in pnn order; others follow its private address', () => {
    expect(natgwDesired(group(), NODES, state(), 0)).toEqual({ok: true, snapshot: {group: group(), role: 'leader', leaderAddress: '192.168.1.21'}})
    expect(natgwDesired(group(), NODES, state(), 2)).toEqual({ok: true, snapshot: {group: group(), role: 'follower', leaderAddress: '192.168.1.21'}})
    expect(natgwDesired(group(), NODES, state({0: ['DISCONNECTED']}), 1)).toMatchObject({ok: true, snapshot: {role: 'leader', leaderAddress: '192.168.1.22'}})
  })

  test('follower-only nodes (041/042) never lead and get the follower setup', () => {
    const g = group({followerOnly: [0]})
    const d = natgwDesired(g, NODES, state(), 0)
    expect(d).toMatchObject({ok: true, snapshot: {role: 'follower', leaderAddress: '192.168.1.22'}})
    if (d.ok) expect(show(planNatgw(undefined, d.snapshot).ops).slice(-2)).toEqual(['ip route add 0.0.0.0/0 via 192.168.1.22 metric 10', FLUSH])
  })

  test('no leader: CTDB fails with "There is no NATGW leader node"', () => {
    const all = Object.fromEntries(NODES.map((n) => [n.pnn, ['DISCONNECTED'] as NodeFlag[]]))
    expect(natgwDesired(group(), NODES, state(all), 0)).toEqual({ok: false, message: 'There is no NATGW leader node'})
  })
})

describe('NatgwReconciler on a simulated host', () => {
  test('leader (011): default via the gateway, the address on eth1, our tagged rules, forwarding on', async () => {
    const {host, rec, warnings} = onFakeHost()
    const r = await rec.ipreallocated(leaderOf(group()))
    expect(r.plan.changed).toBe(true)
    expect(host.routeLines()).toEqual(['default via 10.1.1.254 metric 10'])
    expect(host.addrs.get('eth1')).toEqual([{address: '10.1.1.121/24', scope: 'global'}])
    expect(host.rules('nat', 'POSTROUTING')).toEqual([MASQ])
    expect(host.rules('filter', 'INPUT')).toEqual([REJECT])
    expect(host.proc.get('net/ipv4/ip_forward')).toBe('1')
    expect(host.proc.get('net/ipv4/route/flush')).toBe('1')
    // The quiet clear commands failed (nothing to delete): no warnings, as CTDB discards their output.
    expect(r.failures.length).toBeGreaterThan(0)
    expect(r.failures.every((f) => f.op.quiet)).toBe(true)
    expect(warnings).toEqual([])
    // Exact argv of the iptables commands, with the namespace prefix and our comment.
    expect(host.commands('iptables').filter((c) => / -[AI] /.test(c))).toEqual([
      `iptables -w -t nat -A POSTROUTING ${MASQ}`,
      `iptables -w -t filter -I INPUT ${REJECT}`,
    ])
  })

  test('follower (012) then leader (025) then follower (015): each transition fully replaces routes, address and rules', async () => {
    const {host, rec, warnings} = onFakeHost()
    await rec.ipreallocated(followerOf(group()))
    expect(host.routeLines()).toEqual(['default via 192.168.1.22 metric 10'])
    expect(host.addrs.get('eth1')).toEqual([])
    expect(host.allRules()).toEqual([])

    await rec.ipreallocated(leaderOf(group()))
    expect(host.routeLines()).toEqual(['default via 10.1.1.254 metric 10'])
    expect(host.addrs.get('eth1')).toEqual([{address: '10.1.1.121/24', scope: 'global'}])
    expect(host.allRules()).toEqual([`filter INPUT: ${REJECT}`, `nat POSTROUTING: ${MASQ}`])

    await rec.ipreallocated(followerOf(group()))
    expect(host.routeLines()).toEqual(['default via 192.168.1.22 metric 10'])
    expect(host.addrs.get('eth1')).toEqual([])
    expect(host.allRules()).toEqual([])
    expect(warnings).toEqual([])
  })

  test('unchanged snapshot: no command runs at all', async () => {
    const {host, rec} = onFakeHost()
    await rec.ipreallocated(leaderOf(group()))
    const n = host.calls.length
    const r = await rec.ipreallocated(leaderOf(group()))
    expect(r.plan.changed).toBe(false)
    expect(host.calls.length).toBe(n)
  })

  test('routes changed twice (031): old routes removed, new ones added', async () => {
    const {host, rec} = onFakeHost()
    await rec.ipreallocated(leaderOf(group({staticRoutes: '10.1.1.0/24 10.1.2.0/24'})))
    expect(host.routeLines()).toEqual(['10.1.1.0/24 via 10.1.1.254 metric 10', '10.1.2.0/24 via 10.1.1.254 metric 10'])
    const r1 = await rec.ipreallocated(leaderOf(group({staticRoutes: '10.1.3.0/24 10.1.4.0/24@10.1.1.253'})))
    expect(r1.plan.messages).toEqual(['NAT gateway configuration has changed'])
    expect(host.routeLines()).toEqual(['10.1.3.0/24 via 10.1.1.254 metric 10', '10.1.4.0/24 via 10.1.1.253 metric 10'])
    const r2 = await rec.ipreallocated(leaderOf(group({staticRoutes: '10.1.5.0/24'})))
    expect(r2.plan.messages).toEqual(['NAT gateway configuration has changed'])
    expect(host.routeLines()).toEqual(['10.1.5.0/24 via 10.1.1.254 metric 10'])
    expect(host.rules('nat', 'POSTROUTING')).toEqual([MASQ])
  })

  test('a failing command is logged and the rest still runs (as CTDB); the snapshot is recorded anyway', async () => {
    const {host, rec, warnings} = onFakeHost()
    host.failing.push('ip addr add')
    const r = await rec.ipreallocated(leaderOf(group()))
    expect(warnings).toEqual(['ip addr add 10.1.1.121/24 dev eth1'])
    expect(r.failures.filter((f) => !f.op.quiet).map((f) => f.command)).toEqual(['ip addr add 10.1.1.121/24 dev eth1'])
    expect(host.routeLines()).toEqual(['default via 10.1.1.254 metric 10'])
    expect(rec.applied).toEqual(leaderOf(group()))
  })

  test('shutdown clears with the last applied values and forgets them; the next ipreallocated sets up again', async () => {
    const {host, rec} = onFakeHost()
    await rec.ipreallocated(leaderOf(group()))
    await rec.shutdown(group({staticRoutes: '10.7.0.0/16'}))
    expect(host.routeLines()).toEqual([])
    expect(host.addrs.get('eth1')).toEqual([])
    expect(host.allRules()).toEqual([])
    expect(rec.applied).toBeUndefined()
    const r = await rec.ipreallocated(leaderOf(group()))
    expect(r.plan.changed).toBe(true)
    expect(host.addrs.get('eth1')).toEqual([{address: '10.1.1.121/24', scope: 'global'}])
  })

  test('the state file survives a restart: the new process clears with the old values', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'natgw-state-'))
    try {
      const stateFile = path.join(dir, 'natgw', 'gw.json')
      const host = new FakeHost()
      await new NatgwReconciler({netns: 'n0', runner: host.runner, stateFile}).ipreallocated(leaderOf(group({staticRoutes: '10.1.1.0/24'})))
      expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({version: 1, applied: {role: 'leader'}})
      // "Restart": a new reconciler, new config and leader.
      const rec = new NatgwReconciler({netns: 'n0', runner: host.runner, stateFile})
      const r = await rec.ipreallocated(followerOf(group({staticRoutes: '10.1.2.0/24'})))
      expect(show(r.plan.ops)).toEqual([...clearOps(['10.1.1.0/24']), 'ip route add 10.1.2.0/24 via 192.168.1.22 metric 10', FLUSH])
      expect(host.routeLines()).toEqual(['10.1.2.0/24 via 192.168.1.22 metric 10'])
      expect(host.allRules()).toEqual([])
      expect(host.addrs.get('eth1')).toEqual([])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('without any record, rules of ours left by a forgotten config are swept; foreign rules stay', async () => {
    const {host, rec} = onFakeHost()
    host.chains.get('nat POSTROUTING')!.push(['-s', '172.16.0.0/12', '-m', 'comment', '--comment', TAG, '-j', 'MASQUERADE'])
    host.chains.get('nat POSTROUTING')!.push(['-s', '172.16.0.0/12', '-j', 'MASQUERADE'])
    host.chains.get('filter INPUT')!.push(['-p', 'tcp', '-m', 'comment', '--comment', 'ctdbctl:natgw:other', '-j', 'ACCEPT'])
    await rec.ipreallocated(followerOf(group()))
    expect(host.allRules()).toEqual(['filter INPUT: -p tcp -m comment --comment ctdbctl:natgw:other -j ACCEPT', 'nat POSTROUTING: -s 172.16.0.0/12 -j MASQUERADE'])
  })
})

describe('drivers', () => {
  test('iptables: argv with our comment; -C checks presence; list and purge touch only our tag', async () => {
    const host = new FakeHost()
    const d = new IptablesDriver({netns: 'n1', runner: host.runner})
    const rule = {table: 'nat' as const, chain: 'POSTROUTING', match: ['-s', '10.0.0.0/24'], jump: ['-j', 'MASQUERADE'], tag: natgwTag('g 1')}
    expect(iptablesArgv('-A', rule)).toEqual(['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.0.0.0/24', '-m', 'comment', '--comment', 'ctdbctl:natgw:g_1', '-j', 'MASQUERADE'])
    expect(await d.exists(rule)).toBe(false)
    await d.append(rule)
    expect(await d.exists(rule)).toBe(true)
    host.chains.get('nat POSTROUTING')!.push(['-j', 'MASQUERADE'])
    expect((await d.list('ctdbctl:natgw:g_1')).map((r) => r.line)).toEqual(['-A POSTROUTING -s 10.0.0.0/24 -m comment --comment "ctdbctl:natgw:g_1" -j MASQUERADE'])
    expect(await d.purge('ctdbctl:natgw:g_1')).toBe(1)
    expect(host.rules('nat', 'POSTROUTING')).toEqual(['-j MASQUERADE'])
    await expect(d.delete(rule)).rejects.toThrow(/Bad rule/)
  })

  test('iptables -S lines are split with their quotes removed', () => {
    expect(splitRuleSpec('-A INPUT -m comment --comment "a b\\"c" -j REJECT')).toEqual(['-A', 'INPUT', '-m', 'comment', '--comment', 'a b"c', '-j', 'REJECT'])
  })

  test('commands run inside the namespace through `ip netns exec`', async () => {
    const seen: string[][] = []
    const drivers = hostDrivers({netns: 'lab-n0', runner: async (argv) => (seen.push([...argv]), {code: 0, stdout: '', stderr: ''})})
    await drivers.sysctl.set('net/ipv4/conf/eth1.100/promote_secondaries', '1')
    await drivers.ip.ip(['addr', 'add', '10.0.0.1/24', 'dev', 'eth1'])
    await drivers.ipvsadm.run(['-D', '-t', '10.0.0.9'])
    expect(seen).toEqual([
      ['ip', 'netns', 'exec', 'lab-n0', 'sysctl', '-q', '-w', 'net/ipv4/conf/eth1.100/promote_secondaries=1'],
      ['ip', 'netns', 'exec', 'lab-n0', 'ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth1'],
      ['ip', 'netns', 'exec', 'lab-n0', 'ipvsadm', '-D', '-t', '10.0.0.9'],
    ])
  })

  test('sysctl: set_proc fails on a missing key, set_proc_maybe does not; keys cannot escape /proc/sys', async () => {
    const host = new FakeHost()
    host.missingProc.add('net/ipv4/conf/eth9/promote_secondaries')
    const d = new SysctlDriver({netns: 'x', runner: host.runner})
    await expect(d.set('net/ipv4/conf/eth9/promote_secondaries', '1')).rejects.toThrow(/cannot stat/)
    await expect(d.setIfWritable('net/ipv4/conf/eth9/promote_secondaries', '1')).resolves.toBe(false)
    await expect(d.setIfWritable('net/ipv4/ip_forward', '1')).resolves.toBe(true)
    expect(await d.get('net/ipv4/ip_forward')).toBe('1')
    await expect(d.set('../../etc/passwd', '1')).rejects.toThrow(/invalid sysctl key/)
  })
})
