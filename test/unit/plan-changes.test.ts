// The change set between two configs: every change kind and every unsafe change.
import {countChanges, diffConfigs, type Change, type ChangeKind, type UnsafeRule} from '../../src/cluster/plan/changes.js'
import {base, BASE_YAML, load, variant, type Doc} from './plan-helpers.js'

const plan = (edit: (doc: Doc) => void) => diffConfigs(base(), variant(edit))
const only = (edit: (doc: Doc) => void): Change => {
  const set = plan(edit)
  expect(set.unsafe).toEqual([])
  expect(set.changes).toHaveLength(1)
  return set.changes[0]
}
const rules = (edit: (doc: Doc) => void): UnsafeRule[] => plan(edit).unsafe.map((u) => u.rule)

describe('no change', () => {
  test('identical configs give an empty change set', () => {
    expect(diffConfigs(base(), base())).toEqual({changes: [], unsafe: []})
  })

  test('spelling differences that normalise to the same config are no change', () => {
    const respelt = variant((d) => {
      d.spec.tunables.keepaliveInterval = '250ms'
      d.spec.ipAllocation = {algorithm: 'lcp2', failback: true} // failback: true is the default
      d.spec.services[0].monitor.interval = '15000ms'
    })
    expect(diffConfigs(base(), respelt)).toEqual({changes: [], unsafe: []})
  })
})

describe('against an empty cluster', () => {
  test('everything is an add', () => {
    const set = diffConfigs(null, base())
    expect(set.unsafe).toEqual([])
    expect(set.changes.every((c) => c.action === 'add')).toBe(true)
    const kinds = new Set(set.changes.map((c) => c.kind))
    const all: ChangeKind[] = ['cluster', 'nats', 'clusterLock', 'node', 'publicAddress', 'ipAllocation', 'natgw', 'lvs', 'database', 'service', 'eventScripts', 'tunables']
    expect([...kinds]).toEqual(all)
    expect(set.changes[0]).toEqual({action: 'add', kind: 'cluster', id: 'fs-prod', details: [{field: 'apiVersion', old: null, new: 'ctdbctl/v1'}]})
    // A node that starts life deleted says so; the others do not list deleted: false.
    const nodes = set.changes.filter((c) => c.kind === 'node')
    expect(nodes.map((c) => [c.id, c.pnn])).toEqual([['fs1', 0], ['fs2', 1], ['fs3', 2], ['fs4', 3]])
    expect(nodes[0].details.map((d) => d.field)).toEqual(['address', 'capabilities.leader', 'capabilities.lmaster'])
    expect(nodes[3].details.find((d) => d.field === 'deleted')).toEqual({field: 'deleted', old: null, new: true})
    expect(countChanges(set.changes)).toEqual({add: set.changes.length, change: 0, remove: 0})
  })
})

describe('nodes', () => {
  test('add', () => {
    expect(only((d) => d.spec.nodes.push({pnn: 4, name: 'fs5', address: '10.0.0.5', capabilities: {lmaster: false}}))).toEqual({
      action: 'add',
      kind: 'node',
      id: 'fs5',
      pnn: 4,
      details: [
        {field: 'address', old: null, new: '10.0.0.5'},
        {field: 'capabilities.leader', old: null, new: true},
        {field: 'capabilities.lmaster', old: null, new: false},
      ],
    })
  })

  test('delete (deleted: true) is a remove', () => {
    const set = plan((d) => {
      d.spec.nodes[2].deleted = true
      d.spec.natgw[0].nodes = ['fs1', 'fs2']
    })
    expect(set.unsafe).toEqual([])
    expect(set.changes.find((c) => c.kind === 'node')).toEqual({
      action: 'remove', kind: 'node', id: 'fs3', pnn: 2, details: [{field: 'deleted', old: false, new: true}],
    })
  })

  test('capabilities change', () => {
    expect(only((d) => (d.spec.nodes[0].capabilities = {lmaster: false}))).toEqual({
      action: 'change', kind: 'node', id: 'fs1', pnn: 0, details: [{field: 'capabilities.lmaster', old: true, new: false}],
    })
    expect(only((d) => (d.spec.nodes[2].capabilities = {leader: true})).details).toEqual([{field: 'capabilities.leader', old: false, new: true}])
  })

  test('address of a deleted node may change (nothing uses it)', () => {
    expect(only((d) => (d.spec.nodes[3].address = '10.0.0.44'))).toEqual({
      action: 'change', kind: 'node', id: 'fs4', pnn: 3, details: [{field: 'address', old: '10.0.0.4', new: '10.0.0.44'}],
    })
  })
})

describe('public addresses', () => {
  test('add', () => {
    expect(only((d) => d.spec.publicAddresses.push({address: '192.168.1.13/24', interfaces: ['eth2'], nodes: ['fs2']}))).toEqual({
      action: 'add',
      kind: 'publicAddress',
      id: '192.168.1.13',
      details: [
        {field: 'prefixLength', old: null, new: 24},
        {field: 'interfaces', old: null, new: ['eth2']},
        {field: 'nodes', old: null, new: ['fs2']},
      ],
    })
  })

  test('remove', () => {
    expect(only((d) => d.spec.publicAddresses.splice(0, 1))).toEqual({
      action: 'remove', kind: 'publicAddress', id: '192.168.1.10',
      details: [{field: 'prefixLength', old: 24, new: null}, {field: 'interfaces', old: ['eth1'], new: null}],
    })
  })

  test('interfaces, node list and prefix length change', () => {
    expect(only((d) => (d.spec.publicAddresses[1].interfaces = ['eth2'])).details).toEqual([{field: 'interfaces', old: ['eth1', 'eth2'], new: ['eth2']}])
    expect(only((d) => (d.spec.publicAddresses[1].nodes = ['fs1'])).details).toEqual([{field: 'nodes', old: ['fs1', 'fs2'], new: ['fs1']}])
    expect(only((d) => delete d.spec.publicAddresses[1].nodes).details).toEqual([{field: 'nodes', old: ['fs1', 'fs2'], new: null}])
    expect(only((d) => (d.spec.publicAddresses[0].address = '192.168.1.10/25'))).toEqual({
      action: 'change', kind: 'publicAddress', id: '192.168.1.10', details: [{field: 'prefixLength', old: 24, new: 25}],
    })
  })

  test('the same address spelt differently is the same address', () => {
    const v6 = (addr: string) => load(BASE_YAML.replace('192.168.1.12/24', addr))
    expect(diffConfigs(v6('2001:db8::10/64'), v6('2001:DB8:0::10/64'))).toEqual({changes: [], unsafe: []})
  })
})

describe('groups', () => {
  test('natgw add, remove, change', () => {
    const added = only((d) => d.spec.natgw.push({name: 'ng2', publicAddress: '192.168.2.50/24', publicInterface: 'eth2', privateNetwork: '10.0.0.0/24', nodes: ['fs2', {node: 'fs1', followerOnly: true}]}))
    expect(added).toEqual({
      action: 'add',
      kind: 'natgw',
      id: 'ng2',
      details: [
        {field: 'publicAddress', old: null, new: '192.168.2.50/24'},
        {field: 'publicInterface', old: null, new: 'eth2'},
        {field: 'privateNetwork', old: null, new: '10.0.0.0/24'},
        {field: 'staticRoutes', old: null, new: ['0.0.0.0/0']},
        {field: 'nodes', old: null, new: ['fs2', {node: 'fs1', followerOnly: true}]},
      ],
    })
    expect(only((d) => d.spec.natgw.pop())).toMatchObject({action: 'remove', kind: 'natgw', id: 'ng1'})
    expect(only((d) => (d.spec.natgw[0].nodes = [{node: 'fs1', followerOnly: true}, 'fs2', {node: 'fs3', followerOnly: true}])).details).toEqual([
      {field: 'nodes', old: ['fs1', 'fs2', {node: 'fs3', followerOnly: true}], new: [{node: 'fs1', followerOnly: true}, 'fs2', {node: 'fs3', followerOnly: true}]},
    ])
    expect(only((d) => (d.spec.natgw[0].staticRoutes = ['10.9.0.0/16@192.168.1.2'])).details).toEqual([
      {field: 'staticRoutes', old: ['0.0.0.0/0'], new: ['10.9.0.0/16@192.168.1.2']},
    ])
    expect(only((d) => delete d.spec.natgw[0].defaultGateway).details).toEqual([{field: 'defaultGateway', old: '192.168.1.1', new: null}])
  })

  test('lvs add, remove, change', () => {
    expect(only((d) => d.spec.lvs.push({name: 'lvs2', address: '192.168.1.61', interface: 'eth2', nodes: ['fs3']}))).toMatchObject({action: 'add', kind: 'lvs', id: 'lvs2'})
    expect(only((d) => (d.spec.lvs = []))).toMatchObject({action: 'remove', kind: 'lvs', id: 'lvs1'})
    expect(only((d) => (d.spec.lvs[0].interface = 'eth2'))).toEqual({
      action: 'change', kind: 'lvs', id: 'lvs1', details: [{field: 'interface', old: 'eth1', new: 'eth2'}],
    })
  })
})

describe('singletons', () => {
  test('cluster lock change, including a change of type', () => {
    expect(only((d) => (d.spec.clusterLock.recheckInterval = '10s'))).toEqual({
      action: 'change', kind: 'clusterLock', id: 'clusterLock', details: [{field: 'recheckInterval', old: '5s', new: '10s'}],
    })
    expect(only((d) => (d.spec.clusterLock = {type: 'helper', command: ['/usr/libexec/ctdb/ctdb_etcd_lock']})).details).toEqual([
      {field: 'type', old: 'fcntl', new: 'helper'},
      {field: 'command', old: null, new: ['/usr/libexec/ctdb/ctdb_etcd_lock']},
      {field: 'path', old: '/clusterfs/.ctdb/cluster.lock', new: null},
      {field: 'recheckInterval', old: '5s', new: null},
    ])
  })

  test('tunables: each tunable by name, old -> new, defaults resolved', () => {
    expect(only((d) => {
      d.spec.tunables.keepaliveInterval = '500ms'
      d.spec.tunables.banPeriod = '10m'
    })).toEqual({
      action: 'change',
      kind: 'tunables',
      id: 'tunables',
      details: [
        {field: 'keepaliveInterval', old: '250ms', new: '500ms'},
        {field: 'banPeriod', old: '5m', new: '10m'},
      ],
    })
  })

  test('ip allocation settings', () => {
    expect(only((d) => (d.spec.ipAllocation = {algorithm: 'deterministic', failback: false})).details).toEqual([
      {field: 'algorithm', old: 'lcp2', new: 'deterministic'},
      {field: 'failback', old: true, new: false},
    ])
  })

  test('nats settings', () => {
    expect(only((d) => {
      d.spec.nats.servers.push('nats://10.0.0.3:4222')
      delete d.spec.nats.credentials
      d.spec.nats.tls = {ca: '/etc/ctdbctl/ca.pem'}
    })).toEqual({
      action: 'change',
      kind: 'nats',
      id: 'nats',
      details: [
        {field: 'servers', old: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222'], new: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222', 'nats://10.0.0.3:4222']},
        {field: 'tls.ca', old: null, new: '/etc/ctdbctl/ca.pem'},
        {field: 'credentials', old: '/etc/ctdbctl/fs-prod.creds', new: null},
      ],
    })
  })

  test('event scripts add, change, remove', () => {
    const without = variant((d) => delete d.spec.eventScripts)
    expect(diffConfigs(without, base()).changes).toEqual([{action: 'add', kind: 'eventScripts', id: 'eventScripts', details: [{field: 'path', old: null, new: '/etc/ctdbctl/events.d'}]}])
    expect(diffConfigs(base(), without).changes).toEqual([{action: 'remove', kind: 'eventScripts', id: 'eventScripts', details: [{field: 'path', old: '/etc/ctdbctl/events.d', new: null}]}])
    expect(only((d) => (d.spec.eventScripts = '/srv/events.d')).action).toBe('change')
  })
})

describe('databases and services', () => {
  test('database add and remove', () => {
    expect(only((d) => d.spec.databases.push({name: 'registry.tdb', kind: 'replicated'}))).toEqual({
      action: 'add', kind: 'database', id: 'registry.tdb', details: [{field: 'kind', old: null, new: 'replicated'}],
    })
    expect(only((d) => d.spec.databases.shift())).toEqual({
      action: 'remove', kind: 'database', id: 'locking.tdb', details: [{field: 'kind', old: 'volatile', new: null}],
    })
  })

  test('service add, remove, change', () => {
    expect(only((d) => d.spec.services.push({name: 'ftp', start: ['/usr/bin/systemctl', 'start', 'vsftpd']}))).toEqual({
      action: 'add', kind: 'service', id: 'ftp', details: [{field: 'start', old: null, new: ['/usr/bin/systemctl', 'start', 'vsftpd']}],
    })
    expect(only((d) => d.spec.services.pop())).toMatchObject({action: 'remove', kind: 'service', id: 'nfs'})
    expect(only((d) => (d.spec.services[0].monitor.failures = 3)).details).toEqual([{field: 'monitor.failures', old: 2, new: 3}])
    expect(only((d) => (d.spec.services[1].monitor = {command: ['/usr/sbin/rpcinfo', '-T', 'tcp', 'localhost', 'nfs']})).details).toEqual([
      {field: 'monitor.command', old: null, new: ['/usr/sbin/rpcinfo', '-T', 'tcp', 'localhost', 'nfs']},
      {field: 'monitor.interval', old: null, new: '15s'},
      {field: 'monitor.timeout', old: null, new: '10s'},
      {field: 'monitor.failures', old: null, new: 1},
    ])
  })
})

describe('order', () => {
  test('by kind, then file order, removals last', () => {
    const set = plan((d) => {
      d.spec.tunables.keepaliveLimit = 5
      d.spec.publicAddresses.splice(0, 1)
      d.spec.publicAddresses.unshift({address: '192.168.1.20/24', interfaces: ['eth1']})
      d.spec.nodes.push({pnn: 4, name: 'fs5', address: '10.0.0.5'})
    })
    expect(set.changes.map((c) => `${c.action} ${c.kind} ${c.id}`)).toEqual([
      'add node fs5',
      'add publicAddress 192.168.1.20',
      'remove publicAddress 192.168.1.10',
      'change tunables tunables',
    ])
  })
})

describe('unsafe changes', () => {
  test('renaming the cluster', () => {
    const set = plan((d) => (d.metadata.name = 'fs-new'))
    expect(set.changes).toEqual([])
    expect(set.unsafe).toEqual([{
      kind: 'unsafe',
      rule: 'cluster-renamed',
      subject: {kind: 'cluster', id: 'fs-new'},
      reason: expect.stringContaining('renamed from "fs-prod" to "fs-new"'),
    }])
  })

  test('renumbering a pnn (same name, other pnn)', () => {
    const set = plan((d) => (d.spec.nodes[1].pnn = 7))
    expect(set.unsafe).toEqual([{kind: 'unsafe', rule: 'pnn-renumbered', subject: {kind: 'node', id: 'fs2', pnn: 7}, reason: expect.stringContaining('from pnn 1 to pnn 7')}])
    // Not also reported as a removal of pnn 1 and an addition of pnn 7.
    expect(set.changes.filter((c) => c.kind === 'node')).toEqual([])
  })

  test('swapping two pnns is two renumberings', () => {
    expect(rules((d) => {
      d.spec.nodes[0].pnn = 1
      d.spec.nodes[1].pnn = 0
    })).toEqual(['pnn-renumbered', 'pnn-renumbered'])
  })

  test('a pnn that now names a different node', () => {
    const set = plan((d) => {
      d.spec.nodes[2].name = 'fs9'
      d.spec.natgw[0].nodes[2].node = 'fs9'
    })
    expect(set.unsafe).toEqual([{kind: 'unsafe', rule: 'pnn-reused', subject: {kind: 'node', id: 'fs9', pnn: 2}, reason: expect.stringContaining('pnn 2 belonged to fs3 and now names fs9')}])
  })

  test('a deleted pnn that comes back under another name', () => {
    const set = plan((d) => (d.spec.nodes[3] = {pnn: 3, name: 'fs9', address: '10.0.0.9'}))
    expect(set.unsafe.map((u) => [u.rule, u.reason])).toEqual([['pnn-reused', expect.stringContaining('deleted node fs4')]])
  })

  test('un-deleting a node', () => {
    const set = plan((d) => delete d.spec.nodes[3].deleted)
    expect(set.unsafe).toEqual([{kind: 'unsafe', rule: 'node-undeleted', subject: {kind: 'node', id: 'fs4', pnn: 3}, reason: expect.stringContaining('was deleted and comes back')}])
    expect(set.changes).toEqual([])
  })

  test('removing a node without first marking it deleted', () => {
    const set = plan((d) => {
      d.spec.nodes.splice(2, 1)
      d.spec.natgw[0].nodes.pop()
    })
    expect(set.unsafe).toEqual([{kind: 'unsafe', rule: 'node-removed', subject: {kind: 'node', id: 'fs3', pnn: 2}, reason: expect.stringContaining('deleted: true')}])
    expect(set.changes.filter((c) => c.kind === 'node')).toEqual([])
  })

  test("removing a deleted node's entry", () => {
    const set = plan((d) => d.spec.nodes.pop())
    expect(set.unsafe).toEqual([{kind: 'unsafe', rule: 'deleted-node-removed', subject: {kind: 'node', id: 'fs4', pnn: 3}, reason: expect.stringContaining('pnn 3 is never reused')}])
    expect(set.changes).toEqual([])
  })

  test("changing an active node's address (CTDB refuses it too): listed and unsafe", () => {
    const set = plan((d) => (d.spec.nodes[1].address = '10.0.0.22'))
    expect(set.changes).toEqual([{action: 'change', kind: 'node', id: 'fs2', pnn: 1, details: [{field: 'address', old: '10.0.0.2', new: '10.0.0.22'}]}])
    expect(set.unsafe).toEqual([{kind: 'unsafe', rule: 'node-address-changed', subject: {kind: 'node', id: 'fs2', pnn: 1}, reason: expect.stringContaining('Node 1 has changed IP address')}])
  })

  test("changing a database's kind: listed and unsafe", () => {
    const set = plan((d) => (d.spec.databases[1].kind = 'replicated'))
    expect(set.changes).toEqual([{action: 'change', kind: 'database', id: 'secrets.tdb', details: [{field: 'kind', old: 'persistent', new: 'replicated'}]}])
    expect(set.unsafe).toEqual([{kind: 'unsafe', rule: 'database-kind-changed', subject: {kind: 'database', id: 'secrets.tdb'}, reason: expect.stringContaining('from persistent to replicated')}])
  })

  test('several at once are all reported', () => {
    expect(rules((d) => {
      d.metadata.name = 'other'
      d.spec.nodes.pop()
      d.spec.databases[0].kind = 'persistent'
    }).sort()).toEqual(['cluster-renamed', 'database-kind-changed', 'deleted-node-removed'])
  })
})
