// `ctdbctl import`: the pure CTDB → cluster-file translation (src/import) and its fixtures
// (test/fixtures/ctdb/). The CLI is tested in import-cli.test.ts.
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {loadConfigText, type ClusterConfig} from '../../src/config/index.js'
import {
  CtdbImportError,
  Diagnostics,
  clusterNameFrom,
  importCtdb,
  importCtdbConf,
  mergePerNode,
  parseGroupFile,
  parseNodesFile,
  parsePublicAddressesFile,
  parseShellOptions,
  parseTunablesFile,
  scriptStates,
  translateTunables,
  type CtdbDirInput,
  type ImportOptions,
  type ImportResult,
  type ImportWarning,
} from '../../src/import/index.js'
import {readCtdbDir} from '../../src/import/read-dir.js'
import {diffConfigs} from '../../src/cluster/plan/changes.js'

const FIXTURES = path.join(process.cwd(), 'test/fixtures/ctdb')
const PER_NODE = {0: 'public_addresses.0', 1: 'public_addresses.1', 2: 'public_addresses.2'}

const fixture = (name: string, extra: string[] = []) => readCtdbDir(path.join(FIXTURES, name), extra)

/** The model of a cluster file; fails the test with the problems when it does not validate. */
function model(yaml: string, file = 'imported.yaml'): ClusterConfig {
  const result = loadConfigText(yaml, file, {localChecks: false})
  expect(result.problems.filter((p) => p.severity === 'error')).toEqual([])
  return result.config!
}

/**
 * "Planning `desired` against a cluster running `imported` shows no change": the plan module's
 * change set is empty, and (the stand-in used before the plan module existed, kept because it is
 * stricter) the normalised models are deep-equal.
 */
function expectNoChanges(desired: ClusterConfig, imported: ClusterConfig): void {
  expect(diffConfigs(imported, desired)).toEqual({changes: [], unsafe: []})
  expect(imported).toEqual(desired)
}

function messages(list: ImportWarning[], file: string, line?: number): string[] {
  return list.filter((w) => w.file === file && (line === undefined || w.line === line)).map((w) => w.message)
}

function importText(files: Record<string, string>, options: ImportOptions = {}, scripts?: CtdbDirInput['scripts']): ImportResult {
  return importCtdb({files, ...(scripts ? {scripts} : {})}, options)
}

function importError(fn: () => unknown): CtdbImportError {
  try {
    fn()
  } catch (error) {
    if (error instanceof CtdbImportError) return error
    throw error
  }
  throw new Error('expected a CtdbImportError')
}

/**
 * Every setting line of every input file is either cited in a YAML comment (`file:line`, or a
 * range `file:4-9`) or the subject of a warning (with its line, or about the whole file).
 */
function expectNothingSilentlyDropped(input: CtdbDirInput, result: ImportResult): void {
  const cited = new Set<string>()
  for (const m of result.yaml.matchAll(/([A-Za-z0-9_./-]+):(\d+(?:[-,]\d+)*)/g)) {
    for (const part of m[2].split(',')) {
      const [a, b] = part.split('-').map(Number)
      for (let l = a; l <= (b ?? a); l++) cited.add(`${m[1]}:${l}`)
    }
  }
  const missing: string[] = []
  for (const [file, text] of Object.entries(input.files)) {
    text.split('\n').forEach((raw, i) => {
      const t = raw.trim()
      if (t === '' || t.startsWith('#') || t.startsWith(';') || /^\[.*\]$/.test(t)) return
      const line = i + 1
      if (cited.has(`${file}:${line}`)) return
      if (result.warnings.some((w) => w.file === file && (w.line === line || w.line === undefined))) return
      missing.push(`${file}:${line}: ${t}`)
    })
  }
  expect(missing).toEqual([])
}

describe('nodes file', () => {
  test('the pnn is the position among non-blank lines; a #ADDRESS line is a deleted node that keeps its pnn', () => {
    const diag = new Diagnostics()
    const nodes = parseNodesFile('10.0.0.1\n\n  10.0.0.2\t\n#10.0.0.3\nfd00::4\n\n\n', 'nodes', diag)
    expect(nodes.map(({pnn, address, deleted, line}) => ({pnn, address, deleted, line}))).toEqual([
      {pnn: 0, address: '10.0.0.1', deleted: false, line: 1},
      {pnn: 1, address: '10.0.0.2', deleted: false, line: 3},
      {pnn: 2, address: '10.0.0.3', deleted: true, line: 4},
      {pnn: 3, address: 'fd00::4', deleted: false, line: 5},
    ])
    expect(diag.warnings).toEqual([])
    expect(diag.errors).toEqual([])
  })

  test('a "# comment" line also takes a pnn (CTDB quirk) and is warned about', () => {
    const diag = new Diagnostics()
    const nodes = parseNodesFile('10.0.0.1\n# retired\n10.0.0.3\n', 'nodes', diag)
    expect(nodes[1]).toMatchObject({pnn: 1, address: '0.0.0.0', deleted: true})
    expect(nodes[2]).toMatchObject({pnn: 2, address: '10.0.0.3'})
    expect(diag.warnings).toEqual([{file: 'nodes', line: 2, message: expect.stringContaining('every "#" line is a deleted node and takes a pnn')}])
  })

  test('ports are accepted and dropped with a warning; addresses are canonical', () => {
    const diag = new Diagnostics()
    const nodes = parseNodesFile('10.0.0.1:4379\n[FD00::0002]:4379\n', 'nodes', diag)
    expect(nodes.map((n) => n.address)).toEqual(['10.0.0.1', 'fd00::2'])
    expect(diag.warnings.map((w) => w.line)).toEqual([1, 2])
  })

  test('an unparsable line, a duplicate address and a file without active node are errors', () => {
    const diag = new Diagnostics()
    parseNodesFile('10.0.0.1\n10.0.0.2 extra\n10.0.0.1\n', 'nodes', diag)
    expect(diag.errors).toEqual([
      {file: 'nodes', line: 2, message: expect.stringMatching(/^Invalid node address 10\.0\.0\.2 extra/)},
      {file: 'nodes', line: 3, message: expect.stringContaining('already node 0')},
    ])
    const empty = new Diagnostics()
    parseNodesFile('#10.0.0.1\n\n', 'nodes', empty)
    expect(empty.errors).toEqual([{file: 'nodes', message: expect.stringContaining('every node of the nodes file is deleted')}])
  })
})

describe('public_addresses', () => {
  test('IPv4 and IPv6, several interfaces, comments, leading blanks', () => {
    const diag = new Diagnostics()
    const list = parsePublicAddressesFile('# comment\n  10.0.1.10/24 eth1\n2001:DB8::10/64\teth1,eth2\n\n', 'public_addresses', diag)
    expect(list.map(({address, interfaces, line}) => ({address, interfaces, line}))).toEqual([
      {address: '10.0.1.10/24', interfaces: ['eth1'], line: 2},
      {address: '2001:db8::10/64', interfaces: ['eth1', 'eth2'], line: 3},
    ])
    expect(diag.warnings).toEqual([])
  })

  test('text after the interfaces is ignored with a warning; a network address is not imported', () => {
    const diag = new Diagnostics()
    const list = parsePublicAddressesFile('10.0.1.10/24 eth1 # web\n10.0.2.0/24 eth1\n', 'pa', diag)
    expect(list).toHaveLength(1)
    expect(diag.warnings.map((w) => [w.line, w.message.slice(0, 20)])).toEqual([[1, '"# web" after the in'], [2, '10.0.2.0/24 names a ']])
  })

  test("CTDB's start-up errors: no interface, badly formed, duplicate", () => {
    const diag = new Diagnostics()
    parsePublicAddressesFile('10.0.1.10/24\n10.0.1.11 eth1\n10.0.1.12/24 eth1\n10.0.1.12/24 eth2\n', 'pa', diag)
    expect(diag.errors.map((e) => [e.line, e.message.split(':')[0]])).toEqual([
      [1, 'No interface specified at line 1'],
      [2, 'Badly formed line 2'],
      [4, "Duplicate public IP address '10.0.1.12' (first at line 3)"],
    ])
  })

  test('per-node files: nodes lists who may host; listed everywhere → no restriction; interfaces united', () => {
    const diag = new Diagnostics()
    const a = parsePublicAddressesFile('10.0.1.10/24 eth1\n10.0.9.9/24 eth3\n', 'pa.0', diag)
    const b = parsePublicAddressesFile('10.0.1.10/24 eth2\n10.0.9.9/24 eth3\n10.0.2.10/24 eth2\n', 'pa.1', diag)
    const merged = mergePerNode([{pnn: 1, addresses: b}, {pnn: 0, addresses: a}], [0, 1], diag)
    expect(merged.map(({address, interfaces, pnns}) => ({address, interfaces, pnns}))).toEqual([
      {address: '10.0.1.10/24', interfaces: ['eth1', 'eth2'], pnns: undefined},
      {address: '10.0.9.9/24', interfaces: ['eth3'], pnns: undefined},
      {address: '10.0.2.10/24', interfaces: ['eth2'], pnns: [1]},
    ])
    expect(mergePerNode([{pnn: 0, addresses: a}], [0, 1], diag).map((m) => m.pnns)).toEqual([[0], [0]])
    expect(diag.warnings).toEqual([{file: 'pa.1', line: 1, message: expect.stringContaining('eth1,eth2 is used')}])
  })
})

describe('ctdb.conf', () => {
  test('cluster lock = !helper args → helper with argv split on blanks', () => {
    const diag = new Diagnostics()
    const conf = importCtdbConf('[cluster]\n\tcluster lock = !/usr/libexec/ctdb/ctdb_mutex_ceph_rados_helper  ceph\tclient.admin rbd lockobj\n', diag)
    expect(conf.lock?.lock).toEqual({type: 'helper', command: ['/usr/libexec/ctdb/ctdb_mutex_ceph_rados_helper', 'ceph', 'client.admin', 'rbd', 'lockobj']})
    expect(diag.warnings).toEqual([])
  })

  test('a plain path is the fcntl lock file (spaces kept)', () => {
    const diag = new Diagnostics()
    const conf = importCtdbConf('[cluster]\ncluster lock = /cluster fs/.ctdb/reclock\n', diag)
    expect(conf.lock?.lock).toEqual({type: 'fcntl', path: '/cluster fs/.ctdb/reclock'})
  })

  test('the deprecated "recovery lock" is translated with a warning, and ignored when cluster lock is set', () => {
    const diag = new Diagnostics()
    const conf = importCtdbConf('[cluster]\n    recovery lock = /clusterfs/.ctdb/reclock\n', diag)
    expect(conf.lock?.lock).toEqual({type: 'fcntl', path: '/clusterfs/.ctdb/reclock'})
    expect(diag.warnings).toEqual([{file: 'ctdb.conf', line: 2, message: expect.stringMatching(/recovery lock is deprecated.*translated to clusterLock type fcntl/)}])
    const both = new Diagnostics()
    const conf2 = importCtdbConf('[cluster]\nrecovery lock = /a/old\ncluster lock = /a/new\n', both)
    expect(conf2.lock?.lock).toEqual({type: 'fcntl', path: '/a/new'})
    expect(both.warnings).toEqual([{file: 'ctdb.conf', line: 2, message: expect.stringContaining('ignored when cluster lock is set')}])
  })

  test('helpers CTDB cannot run are errors', () => {
    const diag = new Diagnostics()
    importCtdbConf('[cluster]\ncluster lock = !ctdb_etcd_lock\n', diag)
    expect(diag.errors).toEqual([{file: 'ctdb.conf', line: 2, message: expect.stringContaining('not an absolute path')}])
    const empty = new Diagnostics()
    importCtdbConf('[cluster]\ncluster lock = !\n', empty)
    expect(empty.errors[0].message).toContain('no command')
  })

  test('options without an equivalent are warned about with their line', () => {
    const diag = new Diagnostics()
    const conf = importCtdbConf('[logging]\nlocation = syslog\n[legacy]\nstart as disabled = true\n[cluster]\ntransport = tcp\nbogus = 1\n', diag)
    expect(conf.lock).toBeUndefined()
    expect(diag.warnings.map((w) => w.line)).toEqual([2, 4, 6, 7])
    expect(diag.warnings[1].message).toContain('DISABLED survives restarts')
    expect(diag.warnings[3].message).toContain('not an option ctdbctl knows')
  })

  test('no cluster lock at all → type none with a warning recommending nats-kv', () => {
    const r = importText({nodes: '10.0.0.1\n', 'ctdb.conf': '[logging]\nlog level = NOTICE\n'})
    expect(r.cluster.spec.clusterLock).toEqual({type: 'none'})
    expect(messages(r.warnings, 'ctdb.conf').some((m) => m.includes('no cluster lock') && m.includes('nats-kv'))).toBe(true)
  })

  test('leader capability = false applies to the node named by node address; without it, a warning', () => {
    const files = {nodes: '10.0.0.1\n10.0.0.2\n', 'ctdb.conf': '[cluster]\nnode address = 10.0.0.2\nleader capability = false\n[legacy]\nlmaster capability = false\n'}
    const r = importText(files)
    expect(r.cluster.spec.nodes[1].capabilities).toEqual({leader: false, lmaster: false})
    const unknown = importText({nodes: files.nodes, 'ctdb.conf': '[cluster]\nleader capability = false\n'})
    expect(unknown.cluster.spec.nodes.every((n) => n.capabilities === undefined)).toBe(true)
    expect(messages(unknown.warnings, 'ctdb.conf', 2)[0]).toContain('cannot tell')
  })

  test('[failover] disabled = true: no public address is imported, each line says why', () => {
    const r = importText({nodes: '10.0.0.1\n', 'ctdb.conf': '[failover]\ndisabled = true\n', public_addresses: '10.0.1.10/24 eth1\n'})
    expect(r.cluster.spec.publicAddresses).toBeUndefined()
    expect(messages(r.warnings, 'public_addresses', 1)[0]).toContain('[failover] disabled = true')
  })
})

describe('shell options files', () => {
  test('VAR=value with quotes, export, $CTDB_BASE and comments', () => {
    const diag = new Diagnostics()
    const vars = parseShellOptions(
      '# c\nCTDB_A=plain # note\nexport CTDB_B="two words"\nCTDB_C=\'$lit\'\nCTDB_D=${CTDB_BASE}/natgw_nodes\nCTDB_E="$CTDB_BASE/x"\n',
      'script.options',
      diag,
      '/etc/ctdb',
    )
    expect(vars.map((v) => [v.name, v.value, v.line])).toEqual([
      ['CTDB_A', 'plain', 2],
      ['CTDB_B', 'two words', 3],
      ['CTDB_C', '$lit', 4],
      ['CTDB_D', '/etc/ctdb/natgw_nodes', 5],
      ['CTDB_E', '/etc/ctdb/x', 6],
    ])
    expect(diag.warnings).toEqual([])
  })

  test('shell code and unknown expansions are warned about', () => {
    const diag = new Diagnostics()
    parseShellOptions('if [ -f x ]; then\nCTDB_X=$HOME/y\n', 'script.options', diag, '/etc/ctdb')
    expect(diag.warnings.map((w) => w.line)).toEqual([1, 2])
  })

  test('events/legacy/NAME.options overrides script.options for that script; the loser is warned about', () => {
    const r = importText(
      {
        nodes: '10.0.0.1\n10.0.0.2\n',
        'script.options': 'CTDB_LVS_NODES=/etc/ctdb/lvs_nodes\nCTDB_LVS_PUBLIC_IP=10.9.0.1\nCTDB_LVS_PUBLIC_IFACE=eth1\n',
        'events/legacy/91.lvs.options': 'CTDB_LVS_PUBLIC_IP=10.9.0.2\nCTDB_NATGW_NODES=/x\n',
        lvs_nodes: '10.0.0.1\n10.0.0.2\n',
      },
      {},
      [{path: 'events/legacy/91.lvs.script', executable: true}],
    )
    expect(r.cluster.spec.lvs?.[0].address).toBe('10.9.0.2')
    expect(messages(r.warnings, 'script.options', 2)[0]).toContain('overridden by events/legacy/91.lvs.options:1')
    expect(messages(r.warnings, 'events/legacy/91.lvs.options', 2)[0]).toContain('only seen by 91.lvs')
  })
})

describe('NAT gateway and LVS group files', () => {
  test('follower-only, the deprecated slave-only (warned), comments, invalid options', () => {
    const diag = new Diagnostics()
    const entries = parseGroupFile('# group\n10.0.0.1\n10.0.0.2 follower-only\n10.0.0.3 slave-only\n10.0.0.4 leader\n\n', 'natgw_nodes', diag)
    expect(entries.map(({address, followerOnly, line}) => [address, followerOnly, line])).toEqual([
      ['10.0.0.1', false, 2],
      ['10.0.0.2', true, 3],
      ['10.0.0.3', true, 4],
    ])
    expect(diag.warnings).toEqual([
      {file: 'natgw_nodes', line: 4, message: expect.stringMatching(/"slave-only" is the spelling used before CTDB 4\.13.*translated to followerOnly: true/)},
      {file: 'natgw_nodes', line: 5, message: expect.stringContaining('Invalid options "leader"')},
    ])
  })

  const natgwFiles = {
    nodes: '10.0.0.1\n10.0.0.2\n#10.0.0.3\n',
    'script.options': 'CTDB_NATGW_NODES=/etc/ctdb/natgw_nodes\nCTDB_NATGW_PRIVATE_NETWORK=10.0.0.0/24\nCTDB_NATGW_PUBLIC_IP=192.0.2.9/24\nCTDB_NATGW_PUBLIC_IFACE=eth1\n',
    natgw_nodes: '10.0.0.1\n10.0.0.2 follower-only\n10.0.0.3\n10.0.0.99\n',
  }

  test('members map to node names; deleted and unknown addresses are warned about', () => {
    const r = importText(natgwFiles)
    expect(r.cluster.spec.natgw).toEqual([{name: 'natgw', publicAddress: '192.0.2.9/24', publicInterface: 'eth1', privateNetwork: '10.0.0.0/24', nodes: ['node0', {node: 'node1', followerOnly: true}]}])
    expect(messages(r.warnings, 'natgw_nodes', 3)[0]).toContain('deleted node 2')
    expect(messages(r.warnings, 'natgw_nodes', 4)[0]).toContain('not the address of any node')
  })

  test('when 11.natgw is not enabled CTDB runs no gateway: nothing imported, every variable warned', () => {
    const r = importText(natgwFiles, {}, [{path: 'events/legacy/11.natgw.script', executable: false}])
    expect(r.cluster.spec.natgw).toBeUndefined()
    expect(r.warnings.filter((w) => w.file === 'script.options').map((w) => w.line)).toEqual([1, 2, 3, 4])
    expect(messages(r.warnings, 'natgw_nodes')[0]).toContain('no CTDB_NATGW_NODES')
  })

  test('a missing group file or a missing required variable skips the group with a warning', () => {
    const {natgw_nodes: _dropped, ...withoutGroupFile} = natgwFiles
    const noFile = importText(withoutGroupFile)
    expect(noFile.cluster.spec.natgw).toBeUndefined()
    expect(messages(noFile.warnings, 'script.options', 1)[0]).toContain('not in the directory')
    const noIface = importText({...natgwFiles, 'script.options': natgwFiles['script.options'].replace(/CTDB_NATGW_PUBLIC_IFACE=eth1\n/, '')})
    expect(noIface.cluster.spec.natgw).toBeUndefined()
    expect(messages(noIface.warnings, 'script.options', 1)[0]).toContain('CTDB_NATGW_PUBLIC_IFACE is not set')
  })

  test('LVS: bare address (a prefix length is dropped with a warning)', () => {
    const r = importText({
      nodes: '10.0.0.1\n10.0.0.2\n',
      'script.options': 'CTDB_LVS_NODES=${CTDB_BASE}/lvs_nodes\nCTDB_LVS_PUBLIC_IP=10.9.0.1/32\nCTDB_LVS_PUBLIC_IFACE=eth1\n',
      lvs_nodes: '10.0.0.1\n10.0.0.2 follower-only\n',
    })
    expect(r.cluster.spec.lvs).toEqual([{name: 'lvs', address: '10.9.0.1', interface: 'eth1', nodes: ['node0', {node: 'node1', followerOnly: true}]}])
    expect(messages(r.warnings, 'script.options', 2)[0]).toContain('prefix length')
  })
})

describe('tunables', () => {
  test('mapped tunables, case-insensitive names, later files override earlier ones', () => {
    const diag = new Diagnostics()
    const list = [
      ...parseTunablesFile('keepaliveinterval=3\nKeepaliveLimit=6\nMonitorInterval=30\nEventScriptTimeout=40\nTakeoverTimeout=12\nRecoveryBanPeriod=600\nTickleUpdateInterval=25\n', 'ctdb.tunables', diag),
      ...parseTunablesFile('MonitorInterval=20\nNoIPTakeover=1\nNoIPFailback=0\nIPAllocAlgorithm=0\n', 'tunables.d/site.tunables', diag),
    ]
    const t = translateTunables(list, diag)
    expect(t.tunables).toEqual({keepaliveInterval: '3s', keepaliveLimit: 6, monitorInterval: '20s', eventScriptTimeout: '40s', takeoverTimeout: '12s', banPeriod: '600s', tickleUpdateInterval: '25s'})
    expect(t.ipAllocation).toEqual({algorithm: 'deterministic', failback: true, takeover: false})
    expect(diag.warnings).toEqual([{file: 'ctdb.tunables', line: 3, message: expect.stringContaining('set again at tunables.d/site.tunables:1')}])
  })

  test.each([
    [0, 'deterministic'],
    [1, 'nondeterministic'],
    [2, 'lcp2'],
    [7, 'lcp2'],
  ])('IPAllocAlgorithm=%i → %s', (value, algorithm) => {
    const diag = new Diagnostics()
    expect(translateTunables(parseTunablesFile(`IPAllocAlgorithm=${value}\n`, 't', diag), diag).ipAllocation.algorithm).toBe(algorithm)
    expect(diag.warnings).toHaveLength(value > 2 ? 1 : 0)
  })

  test('NoIPHostOnAllDisabled is translated with a note that current CTDB ignores it', () => {
    const diag = new Diagnostics()
    const t = translateTunables(parseTunablesFile('NoIPHostOnAllDisabled=0\n', 't', diag), diag)
    expect(t.ipAllocation).toEqual({hostOnAllDisabled: true})
    expect(diag.warnings[0].message).toContain('obsolete')
  })

  test('every other tunable is a warning naming file and line; out-of-range values are clamped', () => {
    const diag = new Diagnostics()
    const t = translateTunables(parseTunablesFile('# x\nDatabaseHashSize=10007\nLCP2PublicIPs=1\nNoSuchThing=1\nRecoverTimeout=x\nKeepaliveInterval=30\n', 'ctdb.tunables', diag), diag)
    expect(t.tunables).toEqual({keepaliveInterval: '10s'})
    expect(diag.warnings.map((w) => w.line).sort()).toEqual([2, 3, 4, 5, 6])
    expect(diag.warnings.every((w) => w.file === 'ctdb.tunables')).toBe(true)
    expect(diag.warnings.find((w) => w.line === 2)!.message).toMatch(/^DatabaseHashSize=10007 has no ctdbctl equivalent/)
    expect(diag.warnings.find((w) => w.line === 3)!.message).toContain('obsolete')
    expect(diag.warnings.find((w) => w.line === 6)!.message).toContain('imported as 10s')
  })

  test('recoveryTimeout is raised above keepaliveInterval × keepaliveLimit so the file validates', () => {
    const r = importText({nodes: '10.0.0.1\n', 'ctdb.tunables': 'KeepaliveInterval=5\nKeepaliveLimit=5\n'})
    expect(r.cluster.spec.tunables).toEqual({keepaliveInterval: '5s', keepaliveLimit: 5, recoveryTimeout: '30s'})
    model(r.yaml)
  })
})

describe('event scripts', () => {
  test('enabled = executable; a dangling symlink is disabled (as CTDB)', () => {
    const states = scriptStates([
      {path: 'events/legacy/50.samba.script', executable: true},
      {path: 'events/legacy/60.nfs.script', executable: false},
      {path: 'events/legacy/49.winbind.script', executable: false, symlink: 'dangling'},
      {path: 'events/legacy/README.script', executable: true},
    ])
    expect([...states.values()].map((s) => [s.name, s.enabled])).toEqual([
      ['49.winbind', false],
      ['50.samba', true],
      ['60.nfs', false],
    ])
  })

  test('samba, winbind, netbios and nfs become services; site scripts go to eventScripts; shipped ones are warned', () => {
    const scripts = ['00.ctdb', '05.system', '10.interface', '48.netbios', '49.winbind', '50.samba', '60.nfs', '70.backup', '41.httpd'].map((n) => ({
      path: `events/legacy/${n}.script`,
      executable: n !== '41.httpd',
    }))
    const r = importText({nodes: '10.0.0.1\n', 'script.options': 'CTDB_SERVICE_NMB=nmb\nCTDB_NFS_CALLOUT=/usr/libexec/ctdb/nfs-ganesha-callout\n'}, {eventScriptsDir: '/srv/events'}, scripts)
    expect(r.cluster.spec.services?.map((s) => s.name)).toEqual(['nmb', 'winbind', 'smb', 'nfs'])
    expect(r.cluster.spec.services?.[0].start).toEqual(['/usr/bin/systemctl', 'start', 'nmb'])
    expect(r.cluster.spec.services?.[3].nfsCallout).toBe('/usr/libexec/ctdb/nfs-ganesha-callout')
    expect(r.cluster.spec.eventScripts).toBe('/srv/events')
    expect(messages(r.warnings, 'events/legacy/70.backup.script')[0]).toContain('copy /etc/ctdb/events/legacy/70.backup.script to /srv/events/')
    expect(messages(r.warnings, 'events/legacy/05.system.script')[0]).toContain('no ctdbctl equivalent')
    expect(messages(r.warnings, 'events/legacy/41.httpd.script')).toEqual([])
    model(r.yaml)
  })

  test('no events/legacy directory: one warning, no service', () => {
    const r = importText({nodes: '10.0.0.1\n'})
    expect(r.cluster.spec.services).toBeUndefined()
    expect(messages(r.warnings, 'events/legacy')).toHaveLength(1)
  })
})

describe('import errors', () => {
  test('no nodes file', () => {
    const e = importError(() => importText({'ctdb.conf': '[cluster]\n'}))
    expect(e.problems).toEqual([{file: 'nodes', message: expect.stringContaining('no nodes file')}])
  })

  test('errors carry file and line, and the warnings found so far come along', () => {
    const e = importError(() => importText({nodes: '10.0.0.1\n10.0.0.2:99999\n', public_addresses: '10.1.0.1/24\n'}))
    expect(e.problems).toEqual([{file: 'nodes', line: 2, message: expect.stringContaining('Invalid node address')}])
    const pa = importError(() => importText({nodes: '10.0.0.1\n', public_addresses: '10.1.0.1/24\n'}))
    expect(pa.problems).toEqual([{file: 'public_addresses', line: 1, message: expect.stringContaining('No interface specified')}])
  })

  test('--public-addresses for an unknown or deleted node', () => {
    const e = importError(() => importText({nodes: '10.0.0.1\n#10.0.0.2\n', pa: '10.1.0.1/24 eth1\n'}, {publicAddresses: {1: 'pa', 5: 'pa'}}))
    expect(e.problems.map((p) => p.message)).toEqual([expect.stringContaining('node 1 is deleted'), expect.stringContaining('no node 5')])
  })

  test('invalid names are rejected', () => {
    expect(() => importText({nodes: '10.0.0.1\n'}, {name: 'Bad_Name'})).toThrow(CtdbImportError)
    expect(() => importText({nodes: '10.0.0.1\n'}, {namePrefix: '-x'})).toThrow(CtdbImportError)
  })

  test('cluster names from directory names', () => {
    expect(clusterNameFrom('ctdb')).toBe('ctdb')
    expect(clusterNameFrom('FS_Prod.cluster')).toBe('fs-prod-cluster')
    expect(clusterNameFrom('__')).toBe('ctdb')
  })
})

describe('realistic CTDB directory (test/fixtures/ctdb/realistic)', () => {
  let input: CtdbDirInput
  let result: ImportResult
  let config: ClusterConfig
  beforeAll(async () => {
    input = await fixture('realistic')
    result = importCtdb(input, {name: 'realistic', source: 'test/fixtures/ctdb/realistic'})
    config = model(result.yaml)
  })

  test('starts with the yaml-language-server modeline and cites its sources', () => {
    expect(result.yaml.split('\n')[0]).toBe('# yaml-language-server: $schema=https://ctdbctl.dev/schemas/cluster.schema.json')
    expect(result.yaml).toContain('# nodes:3 "#10.1.0.13": deleted, pnn 2 is never reused')
    expect(result.yaml).toContain('From ctdb.conf:8 (cluster lock = !/usr/libexec/ctdb/ctdb_mutex_ceph_rados_helper')
  })

  test('validates, with no problem at all', () => {
    expect(loadConfigText(result.yaml, 'x', {localChecks: false}).problems).toEqual([])
  })

  test('nodes: the commented-out node is kept as deleted with its pnn', () => {
    expect(config.nodes.map(({pnn, name, address, deleted}) => ({pnn, name, address, deleted}))).toEqual([
      {pnn: 0, name: 'node0', address: '10.1.0.11', deleted: false},
      {pnn: 1, name: 'node1', address: '10.1.0.12', deleted: false},
      {pnn: 2, name: 'node2', address: '10.1.0.13', deleted: true},
      {pnn: 3, name: 'node3', address: '10.1.0.14', deleted: false},
    ])
    expect(config.nats.servers).toEqual(['nats://10.1.0.11:4222', 'nats://10.1.0.12:4222', 'nats://10.1.0.14:4222'])
  })

  test('addresses, lock, groups, services, tunables', () => {
    expect(config.publicAddresses.map((a) => `${a.address}/${a.prefixLength} ${a.interfaces.join(',')}`)).toEqual([
      '192.168.10.101/24 eth1',
      '192.168.10.102/24 eth1',
      '192.168.10.103/24 eth1,eth2',
      '2001:db8:10::101/64 eth1',
      '2001:db8:10::102/64 eth1',
    ])
    expect(config.clusterLock).toEqual({type: 'helper', command: ['/usr/libexec/ctdb/ctdb_mutex_ceph_rados_helper', 'ceph', 'client.admin', 'rbd', 'lockobj']})
    expect(config.natgw).toHaveLength(1)
    expect(config.natgw[0].nodes).toEqual([{pnn: 0, followerOnly: false}, {pnn: 1, followerOnly: false}, {pnn: 3, followerOnly: true}])
    expect(config.natgw[0].staticRoutes).toEqual([
      {destination: {address: '10.20.0.0', prefixLength: 16, family: 4}},
      {destination: {address: '172.16.0.0', prefixLength: 12, family: 4}, gateway: '192.168.10.254'},
    ])
    expect(config.lvs).toEqual([{name: 'lvs', address: '192.168.10.200', family: 4, interface: 'eth1', nodes: [{pnn: 0, followerOnly: false}, {pnn: 1, followerOnly: false}, {pnn: 3, followerOnly: true}]}])
    expect(config.services.map((s) => s.name)).toEqual(['smb', 'nfs'])
    expect(config.eventScripts).toBe('/etc/ctdbctl/events.d')
    expect(config.ipAllocation).toEqual({algorithm: 'lcp2', failback: false, takeover: true, hostOnAllDisabled: false})
    expect(config.tunables).toMatchObject({keepaliveIntervalMs: 2000, keepaliveLimit: 5, monitorIntervalMs: 20_000, banPeriodMs: 600_000, recoveryTimeoutMs: 12_000})
  })

  test('warnings: each names its file and line, deprecated spellings included', () => {
    const located = result.warnings.map((w) => `${w.file}${w.line === undefined ? '' : `:${w.line}`}`)
    expect(located).toEqual([
      'ctdb.conf:4',
      'ctdb.conf:5',
      'ctdb.conf:11',
      'ctdb.tunables:8',
      'ctdb.tunables:9',
      'events/legacy/05.system.script',
      'events/legacy/60.nfs.options:2',
      'events/legacy/70.snapshot.script',
      'natgw_nodes:3',
      'script.options:16',
    ])
    expect(messages(result.warnings, 'natgw_nodes', 3)[0]).toContain('slave-only')
    expect(messages(result.warnings, 'ctdb.tunables', 8)[0]).toContain('DatabaseHashSize')
  })

  test('nothing is silently dropped', () => {
    expectNothingSilentlyDropped(input, result)
  })

  test('plan against an empty cluster adds the expected nodes, addresses and groups', () => {
    const adds = diffConfigs(null, config).changes.map((c) => `${c.action} ${c.kind} ${c.id}`)
    expect(adds).toEqual(expect.arrayContaining([
      'add node node0', 'add node node1', 'add node node2', 'add node node3',
      'add publicAddress 192.168.10.101', 'add publicAddress 2001:db8:10::102',
      'add natgw natgw', 'add lvs lvs', 'add clusterLock clusterLock', 'add service smb', 'add service nfs',
    ]))
    expect(adds.filter((a) => a.startsWith('add publicAddress'))).toHaveLength(5)
  })

  test('round trip: a hand-written equivalent file plans no change against the import', () => {
    const expected = model(readFileSync(path.join(FIXTURES, 'realistic.expected.yaml'), 'utf8'), 'realistic.expected.yaml')
    expectNoChanges(expected, config)
  })
})

describe('other fixtures', () => {
  test('per-node public address files restrict addresses to the nodes listing them; recovery lock is translated', async () => {
    const input = await fixture('per-node', Object.values(PER_NODE))
    const result = importCtdb(input, {name: 'per-node', publicAddresses: PER_NODE})
    const config = model(result.yaml)
    expect(config.publicAddresses.map((a) => [a.address, a.interfaces, a.nodes])).toEqual([
      ['10.20.1.10', ['eth1'], [0, 1]],
      ['10.20.1.11', ['eth1', 'eth2'], [0, 1]],
      ['10.20.9.9', ['eth3'], undefined],
      ['10.20.2.10', ['eth2'], [2]],
    ])
    expect(config.clusterLock).toEqual({type: 'fcntl', path: '/clusterfs/.ctdb/reclock', recheckIntervalMs: 5000})
    expect(config.nodes[2].capabilities).toEqual({leader: false, lmaster: true})
    expect(messages(result.warnings, 'ctdb.conf', 3)[0]).toMatch(/recovery lock is deprecated.*translated/)
    expect(messages(result.warnings, 'public_addresses')[0]).toContain('ignored')
    expectNothingSilentlyDropped(input, result)
  })

  test('a pre-4.9 directory (ctdbd.conf): CTDB_RECOVERY_LOCK, CTDB_SET_*, CTDB_MANAGES_*, slave-only', async () => {
    const input = await fixture('legacy')
    const result = importCtdb(input, {name: 'legacy'})
    const config = model(result.yaml)
    expect(config.clusterLock).toMatchObject({type: 'fcntl', path: '/clusterfs/.ctdb/reclock'})
    expect(config.nodes[2]).toMatchObject({pnn: 2, deleted: true, address: '0.0.0.0'})
    expect(config.services.map((s) => [s.name, s.start])).toEqual([
      ['winbind', ['/usr/bin/systemctl', 'start', 'winbind']],
      ['smb', ['/usr/bin/systemctl', 'start', 'smb']],
    ])
    expect(config.tunables.monitorIntervalMs).toBe(30_000)
    expect(config.ipAllocation.takeover).toBe(false)
    expect(config.natgw[0].nodes).toEqual([{pnn: 0, followerOnly: false}, {pnn: 1, followerOnly: true}, {pnn: 3, followerOnly: true}])
    expect(messages(result.warnings, 'ctdbd.conf', 2)[0]).toContain('CTDB_RECOVERY_LOCK is the deprecated')
    expect(messages(result.warnings, 'natgw_nodes').filter((m) => m.includes('slave-only'))).toHaveLength(2)
    expectNothingSilentlyDropped(input, result)
  })

  test('a directory with only a nodes file', async () => {
    const result = importCtdb(await fixture('minimal'), {name: 'minimal'})
    const config = model(result.yaml)
    expect(config.clusterLock).toEqual({type: 'none'})
    expect(config.publicAddresses).toEqual([])
    expect(result.warnings.map((w) => w.file)).toEqual(['ctdb.conf', 'events/legacy', 'public_addresses'])
  })
})

describe('reading a directory', () => {
  let dir = ''
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-import-'))
  })
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  test('scripts: executable files and symlinks are enabled, dangling symlinks and plain files are not', async () => {
    const legacy = path.join(dir, 'events/legacy')
    mkdirSync(legacy, {recursive: true})
    mkdirSync(path.join(dir, 'notify.d'))
    writeFileSync(path.join(dir, 'nodes'), '10.0.0.1\n')
    writeFileSync(path.join(dir, 'notify.d/mail'), '#!/bin/sh\n')
    writeFileSync(path.join(dir, 'target.sh'), '#!/bin/sh\n')
    chmodSync(path.join(dir, 'target.sh'), 0o755)
    writeFileSync(path.join(legacy, '50.samba.script'), '#!/bin/sh\n')
    chmodSync(path.join(legacy, '50.samba.script'), 0o755)
    writeFileSync(path.join(legacy, '60.nfs.script'), '#!/bin/sh\n')
    chmodSync(path.join(legacy, '60.nfs.script'), 0o644)
    symlinkSync(path.join(dir, 'target.sh'), path.join(legacy, '49.winbind.script'))
    symlinkSync('/nonexistent/48.netbios.script', path.join(legacy, '48.netbios.script'))
    writeFileSync(path.join(legacy, '60.nfs.options'), 'CTDB_NFS_SKIP_SHARE_CHECK=yes\n')
    const input = await readCtdbDir(dir)
    expect(Object.keys(input.files).sort()).toEqual(['events/legacy/60.nfs.options', 'nodes', 'target.sh'])
    expect(input.otherEntries).toEqual(['notify.d/mail'])
    expect(input.scripts?.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      {path: 'events/legacy/48.netbios.script', executable: false, symlink: 'dangling'},
      {path: 'events/legacy/49.winbind.script', executable: true, symlink: 'ok'},
      {path: 'events/legacy/50.samba.script', executable: true},
      {path: 'events/legacy/60.nfs.script', executable: false},
    ])
    const result = importCtdb(input)
    expect(result.cluster.spec.services?.map((s) => s.name)).toEqual(['winbind', 'smb'])
    expect(messages(result.warnings, 'events/legacy/48.netbios.script')[0]).toContain('treats it as disabled')
    expect(messages(result.warnings, 'notify.d/mail')[0]).toContain('notification scripts')
    expect(messages(result.warnings, 'target.sh')[0]).toContain('not a CTDB configuration file')
  })
})
