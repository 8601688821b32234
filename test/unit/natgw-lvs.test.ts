// NAT gateway and LVS roles against CTDB's own tool tests (../shared/vectors/{natgw,lvs}) and the
// rules of helpers-spec.md §0–§2.
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {networkInterfaces, tmpdir} from 'node:os'
import path from 'node:path'
import type {GroupMember, LvsGroup, NatgwGroup, NodeConfig} from '../../src/config/model.js'
import type {ClusterState, NodeFlag} from '../../src/cluster/state.js'
import {
  detectThisNode,
  flagNamesToBits,
  flagString,
  nodeMap,
  nodeStatusLine,
  renderClusterUnreachable,
  renderNodeStatusAll,
  renderRuntimeExceeded,
  type ToolOutput,
} from '../../src/cluster/nodestatus.js'
import {groupFileNotFoundMessage, groupFileTextLines, parseGroupFile, renderGroupFile, splitGroupLine} from '../../src/cluster/groupfile.js'
import {natgwCommand, natgwRoles, runNatgw, type NatgwCommand} from '../../src/cluster/natgw.js'
import {lvsCommand, lvsRoles, runLvs, type LvsCommand} from '../../src/cluster/lvs.js'
import {parseStateText, readStateFile, StateFileError} from '../../src/cli/state-file.js'
import {selectGroup} from '../../src/cli/flags.js'

// ---------------------------------------------------------------------------------------------
// Vectors

interface VectorNode {
  pnn: number
  address: string
  flags_hex: string
  flags: string[]
  current: boolean
  leader: boolean
}

interface Vector {
  source: string
  feature: 'natgw' | 'lvs'
  description: string
  config_lines: string[]
  daemon_running: boolean
  nodes: VectorNode[]
  nodes_file_lines?: string[]
  command: 'leader' | 'list' | 'status'
  expected_exit: number
  expected_output: string
  control_failures?: {opcode: number; opcode_name: string; pnn: number; failure: string}[]
  placeholders?: Record<string, string>
}

const VECTOR_ROOT = path.resolve(process.cwd(), '../shared/vectors')
const FEATURES = ['natgw', 'lvs'] as const

function loadVectors(): {file: string; vector: Vector}[] {
  const all: {file: string; vector: Vector}[] = []
  for (const feature of FEATURES) {
    const dir = path.join(VECTOR_ROOT, feature)
    if (!existsSync(dir)) throw new Error(`vector directory ${dir} is missing (expected ../shared/vectors/${feature} next to the checkout)`)
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      all.push({file: `${feature}/${name}`, vector: JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as Vector})
    }
  }
  if (all.length === 0) throw new Error(`no vectors found under ${VECTOR_ROOT}`)
  return all
}

const vectors = loadVectors()

/** Where ctdbctl would have looked for the cluster (stands for CTDB's daemon socket). */
const ENDPOINT = '/run/ctdbctl/ctdbctl.sock'
const GROUP_FILE = {natgw: '/etc/ctdb/natgw_nodes', lvs: '/etc/ctdb/lvs_nodes'}

function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((ifs) => (ifs ?? []).map((i) => i.address))
}

function substitute(text: string, v: Vector): string {
  let out = text
  for (const key of Object.keys(v.placeholders ?? {})) {
    const value = key === '${CTDB_SOCKET}' ? ENDPOINT
      : key === '${CTDB_NATGW_NODES}' ? GROUP_FILE.natgw
      : key === '${CTDB_LVS_NODES}' ? GROUP_FILE.lvs
      : undefined
    if (value === undefined) throw new Error(`unknown placeholder ${key}`)
    out = out.split(key).join(value)
  }
  return out
}

/** The vector's node map as a config node list and a state snapshot (thisNode = the current node). */
function toClusterModel(v: Vector): {nodes: NodeConfig[]; state: ClusterState} {
  const nodes: NodeConfig[] = v.nodes.map((n) => ({
    pnn: n.pnn,
    name: `node${n.pnn}`,
    address: n.address,
    family: n.address.includes(':') ? 6 : 4,
    capabilities: {leader: true, lmaster: true},
    deleted: false,
  }))
  for (const n of v.nodes) {
    // The flag names and the hex value must agree, or the vector is misread.
    expect(flagNamesToBits(n.flags)).toBe(parseInt(n.flags_hex, 16))
  }
  const state: ClusterState = {
    cluster: 'vectors',
    thisNode: v.nodes.find((n) => n.current)?.pnn,
    leader: v.nodes.find((n) => n.leader)?.pnn,
    nodes: v.nodes.map((n) => ({pnn: n.pnn, address: n.address, flags: n.flags as NodeFlag[]})),
    publicAddresses: [],
  }
  return {nodes, state}
}

/**
 * The group lines as ctdbctl group members, when the config language can express them: every
 * line is `IP` or `IP<blanks>follower-only` naming exactly one node. Otherwise null.
 */
function toMembers(lines: readonly string[], nodes: readonly NodeConfig[]): GroupMember[] | null {
  const parsed = parseGroupFile(lines)
  if (!parsed.ok) return null
  const members: GroupMember[] = []
  for (const line of parsed.lines) {
    const matches = nodes.filter((n) => n.address === line.ip)
    if (matches.length !== 1 || (line.options !== '' && line.options !== 'follower-only')) return null
    members.push({pnn: matches[0].pnn, followerOnly: line.options === 'follower-only'})
  }
  return members
}

const NATGW_GROUP_BASE: Omit<NatgwGroup, 'nodes'> = {
  name: 'ng1',
  publicAddress: {address: '10.1.1.121', prefixLength: 24, family: 4},
  publicInterface: 'eth1',
  privateNetwork: {address: '192.168.20.0', prefixLength: 24, family: 4},
  defaultGateway: '10.1.1.254',
  staticRoutes: [],
}
const LVS_GROUP_BASE: Omit<LvsGroup, 'nodes'> = {name: 'lvs1', address: '10.1.1.201', family: 4, interface: 'eth1'}

/** Run a vector through the group-file path (CTDB's file lines + node map). */
function runFromGroupFile(v: Vector, nodes: NodeConfig[], state: ClusterState): ToolOutput {
  const parsed = parseGroupFile(v.config_lines, {feature: v.feature, file: GROUP_FILE[v.feature]})
  if (!parsed.ok) return {stdout: parsed.message + '\n', exitCode: parsed.exitCode, json: null}
  const map = nodeMap(nodes, state)
  return v.feature === 'natgw'
    ? runNatgw(v.command as NatgwCommand, parsed.lines, map)
    : runLvs(v.command as LvsCommand, parsed.lines, map)
}

/** Everything before the helper runs: no cluster, or the state query times out. */
function toolLevelOutcome(v: Vector): ToolOutput | null {
  if (!v.daemon_running) {
    const fileNodes = (v.nodes_file_lines ?? []).map((line, pnn) => {
      const {ip} = splitGroupLine(line)
      return {pnn, address: ip.replace(/^#/, ''), deleted: ip.startsWith('#')}
    })
    return renderClusterUnreachable({endpoint: ENDPOINT, errno: 2, thisNode: detectThisNode(fileNodes, localAddresses())})
  }
  const failures = v.control_failures ?? []
  if (failures.length > 0) {
    const unsupported = failures.filter((f) => f.failure !== 'TIMEOUT')
    if (unsupported.length > 0) throw new Error(`unsupported control failure kind(s): ${unsupported.map((f) => f.failure).join(', ')}`)
    return renderRuntimeExceeded()
  }
  return null
}

describe.each(vectors)('vector $file', ({vector: v}) => {
  test(`${v.description}: ${v.feature} ${v.command} → exit ${v.expected_exit}`, () => {
    const expected = substitute(v.expected_output, v)
    const early = toolLevelOutcome(v)
    if (early) {
      expect({stdout: early.stdout, exitCode: early.exitCode}).toEqual({stdout: expected, exitCode: v.expected_exit})
      return
    }
    const {nodes, state} = toClusterModel(v)

    // CTDB's own group file + node map.
    const fromFile = runFromGroupFile(v, nodes, state)
    expect({stdout: fromFile.stdout, exitCode: fromFile.exitCode}).toEqual({stdout: expected, exitCode: v.expected_exit})

    // The same group written in the config language, when it can be.
    const members = toMembers(v.config_lines, nodes)
    if (members === null) return
    const out = v.feature === 'natgw'
      ? natgwCommand(v.command as NatgwCommand, {...NATGW_GROUP_BASE, nodes: members}, nodes, state)
      : lvsCommand(v.command as LvsCommand, {...LVS_GROUP_BASE, nodes: members}, nodes, state)
    expect({stdout: out.stdout, exitCode: out.exitCode}).toEqual({stdout: expected, exitCode: v.expected_exit})
    expect(JSON.parse(JSON.stringify(out.json))).toMatchObject({command: v.command})
  })
})

// ---------------------------------------------------------------------------------------------
// Rules, beyond the shipped vectors

const IPS = ['192.168.20.41', '192.168.20.42', '192.168.20.43']

function cluster(flags: NodeFlag[][], opts: {thisNode?: number; interfaces?: Record<number, Record<string, 'up' | 'down'>>} = {}) {
  const nodes: NodeConfig[] = flags.map((_, pnn) => ({
    pnn,
    name: `fs${pnn + 1}`,
    address: IPS[pnn] ?? `192.168.20.${41 + pnn}`,
    family: 4,
    capabilities: {leader: true, lmaster: true},
    deleted: false,
  }))
  const state: ClusterState = {
    cluster: 't',
    thisNode: opts.thisNode ?? 0,
    nodes: flags.map((f, pnn) => ({pnn, flags: f, ...(opts.interfaces?.[pnn] ? {interfaces: opts.interfaces[pnn]} : {})})),
    publicAddresses: [],
  }
  return {nodes, state}
}

const member = (pnn: number, followerOnly = false): GroupMember => ({pnn, followerOnly})
const natgw = (members: GroupMember[]): NatgwGroup => ({...NATGW_GROUP_BASE, nodes: members})
const lvs = (members: GroupMember[]): LvsGroup => ({...LVS_GROUP_BASE, nodes: members})
const all3 = [member(0), member(1), member(2)]

describe('node status', () => {
  test.each([
    [0x00, false, 'OK'],
    [0x00, true, 'PARTIALLYONLINE'],
    [0x02, true, 'UNHEALTHY'],
    [0x01, false, 'DISCONNECTED|INACTIVE'],
    [0x22, false, 'UNHEALTHY|STOPPED|INACTIVE'],
    [0x06, false, 'DISABLED|UNHEALTHY'],
    [0x08, false, 'BANNED|INACTIVE'],
    [0x40, false, 'UNKNOWN'],
    [0x7f, false, 'DISCONNECTED|UNKNOWN|DISABLED|BANNED|UNHEALTHY|DELETED|STOPPED|INACTIVE'],
  ])('flags %d (interface down: %s) → %s', (bits, down, text) => {
    expect(flagString(bits, down)).toBe(text)
  })

  test('line: address padded to 16, one space, (THIS NODE)', () => {
    expect(nodeStatusLine({pnn: 1, address: '192.168.20.42', flags: 0, interfaceDown: false, thisNode: true}))
      .toBe('pnn:1 192.168.20.42    OK (THIS NODE)')
    expect(nodeStatusLine({pnn: 12, address: 'fd00:1234::abcd:1', flags: 2, interfaceDown: false, thisNode: false}))
      .toBe('pnn:12 fd00:1234::abcd:1 UNHEALTHY')
  })

  test('node map: PNN order, absent = DISCONNECTED, deleted never listed, interfaces down', () => {
    const {nodes, state} = cluster([[], ['DELETED'], []], {interfaces: {0: {eth1: 'up', eth2: 'down'}}})
    const extra: NodeConfig = {...nodes[0], pnn: 3, name: 'fs4', address: '192.168.20.44'}
    const gone: NodeConfig = {...nodes[0], pnn: 4, name: 'fs5', address: '192.168.20.45', deleted: true}
    const map = nodeMap([gone, extra, ...nodes], state)
    expect(map.map(nodeStatusLine)).toEqual([
      'pnn:0 192.168.20.41    PARTIALLYONLINE (THIS NODE)',
      'pnn:2 192.168.20.43    OK',
      'pnn:3 192.168.20.44    DISCONNECTED|INACTIVE',
    ])
    expect(renderNodeStatusAll(map, 2)).toEqual({
      stdout: 'Number of nodes:5 (including 2 deleted nodes)\n' +
        'pnn:0 192.168.20.41    PARTIALLYONLINE (THIS NODE)\npnn:2 192.168.20.43    OK\npnn:3 192.168.20.44    DISCONNECTED|INACTIVE\n',
      exitCode: 1,
    })
  })
})

describe('natgw leader passes', () => {
  test.each<[string, NodeFlag[][], GroupMember[], string, number]>([
    ['all ok', [[], [], []], all3, '0 192.168.20.41\n', 0],
    ['all unhealthy, all but 2 stopped (pass 2)', [['UNHEALTHY', 'STOPPED'], ['UNHEALTHY', 'STOPPED'], ['UNHEALTHY']], all3, '2 192.168.20.43\n', 0],
    ['all stopped (pass 3)', [['STOPPED'], ['STOPPED'], ['STOPPED']], all3, '0 192.168.20.41\n', 0],
    ['node 0 follower-only, all stopped', [['STOPPED'], ['STOPPED'], ['STOPPED']], [member(0, true), member(1), member(2)], '1 192.168.20.42\n', 0],
    ['all follower-only', [[], [], []], [member(0, true), member(1, true), member(2, true)], '', 2],
    ['banned tolerated in pass 2', [['DISABLED'], ['BANNED'], ['STOPPED']], all3, '1 192.168.20.42\n', 0],
    ['disconnected and disabled never', [['DISCONNECTED'], ['DISABLED'], ['DISABLED', 'UNHEALTHY']], all3, '', 2],
    ['deleted never', [['DELETED'], ['DISABLED'], ['DISCONNECTED']], all3, '', 2],
    ['PNN order, not group order', [[], [], []], [member(2), member(1)], '1 192.168.20.42\n', 0],
    ['node absent from the snapshot = disconnected', [[], [], []], all3, '1 192.168.20.42\n', 0],
  ])('%s', (name, flags, members, stdout, exitCode) => {
    const {nodes, state} = cluster(flags)
    if (name.startsWith('node absent')) state.nodes = state.nodes.filter((n) => n.pnn !== 0)
    const out = natgwCommand('leader', natgw(members), nodes, state)
    expect({stdout: out.stdout, exitCode: out.exitCode}).toEqual({stdout, exitCode})
  })

  test('list keeps group order, annotates the leader, no leader is fine', () => {
    const {nodes, state} = cluster([[], ['UNHEALTHY'], []])
    expect(natgwCommand('list', natgw([member(2), member(0, true), member(1)]), nodes, state).stdout)
      .toBe('192.168.20.43\tLEADER\n192.168.20.41\tfollower-only\n192.168.20.42\n')
    const none = natgwCommand('list', natgw([member(0, true), member(1, true)]), nodes, state)
    expect(none).toMatchObject({stdout: '192.168.20.41\tfollower-only\n192.168.20.42\tfollower-only\n', exitCode: 0})
  })

  test('status lists group nodes (follower-only included) in PNN order, deleted never', () => {
    const {nodes, state} = cluster([['DELETED'], ['UNHEALTHY'], []], {thisNode: 2})
    const out = natgwCommand('status', natgw([member(2), member(1, true), member(0)]), nodes, state)
    expect(out.stdout).toBe('pnn:1 192.168.20.42    UNHEALTHY\npnn:2 192.168.20.43    OK (THIS NODE)\n')
    expect(out.exitCode).toBe(0)
  })

  test('roles and JSON', () => {
    const {nodes, state} = cluster([['UNHEALTHY'], [], []])
    expect(natgwRoles(natgw([member(0), member(1), member(2, true)]), nodes, state)).toEqual({
      leader: {pnn: 1, address: '192.168.20.42', pass: 1},
      members: [
        {address: '192.168.20.41', pnn: 0, followerOnly: false, leader: false},
        {address: '192.168.20.42', pnn: 1, followerOnly: false, leader: true},
        {address: '192.168.20.43', pnn: 2, followerOnly: true, leader: false},
      ],
      followers: [0, 2],
    })
    expect(natgwCommand('status', natgw(all3), nodes, state).json).toEqual({
      command: 'status',
      group: 'ng1',
      nodes: [
        {pnn: 0, address: '192.168.20.41', flags: ['UNHEALTHY'], status: 'UNHEALTHY', thisNode: true},
        {pnn: 1, address: '192.168.20.42', flags: [], status: 'OK', thisNode: false},
        {pnn: 2, address: '192.168.20.43', flags: [], status: 'OK', thisNode: false},
      ],
    })
    expect(natgwCommand('leader', natgw([member(0, true)]), nodes, state).json).toEqual({command: 'leader', group: 'ng1', leader: null})
  })
})

describe('lvs filter passes', () => {
  test.each<[string, NodeFlag[][], GroupMember[], string, string, number]>([
    ['all ok', [[], [], []], all3, '0\n', '0 192.168.20.41\n1 192.168.20.42\n2 192.168.20.43\n', 0],
    ['node 0 unhealthy: excluded while healthy nodes exist', [['UNHEALTHY'], [], []], all3, '1\n', '1 192.168.20.42\n2 192.168.20.43\n', 0],
    ['all unhealthy: pass 2 returns all', [['UNHEALTHY'], ['UNHEALTHY'], ['UNHEALTHY']], all3, '0\n', '0 192.168.20.41\n1 192.168.20.42\n2 192.168.20.43\n', 0],
    ['0,1 disabled, 2 unhealthy', [['DISABLED'], ['DISABLED'], ['UNHEALTHY']], all3, '2\n', '2 192.168.20.43\n', 0],
    ['all disabled', [['DISABLED'], ['DISABLED'], ['DISABLED']], all3, '', '', 255],
    ['banned, stopped, disconnected never (unlike natgw)', [['BANNED'], ['STOPPED'], ['DISCONNECTED']], all3, '', '', 255],
    ['empty group', [[], [], []], [], '', '', 255],
    ['follower-only: listed, never leader', [['UNHEALTHY'], [], []], [member(0), member(1, true), member(2)], '2\n', '1 192.168.20.42\n2 192.168.20.43\n', 0],
    ['leader pass differs from list pass', [[], ['UNHEALTHY'], ['UNHEALTHY']], [member(0, true), member(1), member(2)], '1\n', '0 192.168.20.41\n', 0],
  ])('%s', (_name, flags, members, leader, list, leaderExit) => {
    const {nodes, state} = cluster(flags)
    const l = lvsCommand('leader', lvs(members), nodes, state)
    expect({stdout: l.stdout, exitCode: l.exitCode}).toEqual({stdout: leader, exitCode: leaderExit})
    const ls = lvsCommand('list', lvs(members), nodes, state)
    expect({stdout: ls.stdout, exitCode: ls.exitCode}).toEqual({stdout: list, exitCode: 0})
  })

  test('roles and JSON', () => {
    const {nodes, state} = cluster([['UNHEALTHY'], [], []])
    expect(lvsRoles(lvs([member(0), member(1, true), member(2)]), nodes, state)).toEqual({
      leader: {pnn: 2, address: '192.168.20.43'},
      usable: [{pnn: 1, address: '192.168.20.42'}, {pnn: 2, address: '192.168.20.43'}],
      members: [
        {address: '192.168.20.41', pnn: 0, followerOnly: false, leader: false},
        {address: '192.168.20.42', pnn: 1, followerOnly: true, leader: false},
        {address: '192.168.20.43', pnn: 2, followerOnly: false, leader: true},
      ],
    })
    expect(lvsCommand('list', lvs(all3), nodes, state).json).toEqual({
      command: 'list', group: 'lvs1', nodes: [{pnn: 1, address: '192.168.20.42'}, {pnn: 2, address: '192.168.20.43'}],
    })
  })

  test('status = natgw status', () => {
    const {nodes, state} = cluster([['STOPPED', 'UNHEALTHY'], [], ['DISCONNECTED']], {thisNode: 1})
    const out = lvsCommand('status', lvs([member(2), member(0)]), nodes, state)
    expect(out).toMatchObject({stdout: 'pnn:0 192.168.20.41    UNHEALTHY|STOPPED|INACTIVE\npnn:2 192.168.20.43    DISCONNECTED|INACTIVE\n', exitCode: 0})
  })
})

describe('group file (CTDB natgw_nodes / lvs_nodes)', () => {
  test('split like `read _ip _options`', () => {
    expect(splitGroupLine('192.168.1.1')).toEqual({ip: '192.168.1.1', options: ''})
    expect(splitGroupLine('  192.168.1.1 \t follower-only  ')).toEqual({ip: '192.168.1.1', options: 'follower-only'})
    expect(splitGroupLine('192.168.1.1 follower-only  extra')).toEqual({ip: '192.168.1.1', options: 'follower-only  extra'})
    expect(splitGroupLine('   ')).toEqual({ip: '', options: ''})
    expect(groupFileTextLines('a\n\nb\n\n\n')).toEqual(['a', '', 'b'])
    expect(groupFileTextLines('')).toEqual([])
  })

  test.each([
    ['follower-only extra', 'natgw', 'ctdb_natgw: Invalid options "follower-only extra" in  "/etc/ctdb/natgw_nodes"'],
    ['slave-only', 'natgw', 'ctdb_natgw: Invalid options "slave-only" in  "/etc/ctdb/natgw_nodes"'],
    ['leader', 'lvs', 'ctdb_lvs: Invalid options "leader" in  "/etc/ctdb/lvs_nodes"'],
  ] as const)('invalid options %j (%s)', (opts, feature, message) => {
    expect(parseGroupFile(['192.168.20.41', `192.168.20.42 ${opts}`], {feature})).toEqual({ok: false, message, exitCode: 1})
  })

  test('file name is quoted after two spaces', () => {
    expect(parseGroupFile(['1.2.3.4 bogus'], {feature: 'lvs', file: '/x/lvs'})).toMatchObject({message: 'ctdb_lvs: Invalid options "bogus" in  "/x/lvs"'})
    expect(groupFileNotFoundMessage('natgw', '/x/n')).toBe('ctdb_natgw: NAT gateway nodes file "/x/n" not found')
    expect(groupFileNotFoundMessage('lvs', '/x/l')).toBe('ctdb_lvs: LVS nodes file "/x/l" not found')
  })

  test('comment lines skip validation but are listed; blank interior lines are listed; trailing ones dropped', () => {
    const parsed = parseGroupFile(['# leaders first', '192.168.20.43', '', '192.168.20.41   follower-only', '#x follower-only extra', '', ''])
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    const {nodes, state} = cluster([[], [], []])
    const map = nodeMap(nodes, state)
    expect(runNatgw('list', parsed.lines, map).stdout)
      .toBe('#\tleaders first\n192.168.20.43\tLEADER\n\n192.168.20.41\tfollower-only\n#x\tfollower-only extra\n')
    expect(runNatgw('leader', parsed.lines, map).stdout).toBe('2 192.168.20.43\n')
    expect(runNatgw('status', parsed.lines, map).stdout).toBe('pnn:0 192.168.20.41    OK (THIS NODE)\npnn:2 192.168.20.43    OK\n')
    expect(runLvs('list', parsed.lines, map).stdout).toBe('0 192.168.20.41\n2 192.168.20.43\n')
    expect(renderGroupFile(parsed.lines.slice(1, 2))).toBe('192.168.20.43\n')
  })

  test('an IP that is no node never matches; matching is exact', () => {
    const parsed = parseGroupFile(['192.168.20.4', '192.168.20.41x', '10.0.0.1'])
    if (!parsed.ok) throw new Error('unexpected')
    const {nodes, state} = cluster([[], [], []])
    expect(runNatgw('leader', parsed.lines, nodeMap(nodes, state))).toMatchObject({stdout: '', exitCode: 2})
    expect(runLvs('leader', parsed.lines, nodeMap(nodes, state))).toMatchObject({stdout: '', exitCode: 255})
  })
})

describe('cluster unreachable', () => {
  test('state query times out', () => {
    expect(renderRuntimeExceeded()).toEqual({stdout: 'Maximum runtime exceeded - exiting\n', exitCode: 1, json: {error: 'Maximum runtime exceeded - exiting'}})
  })

  test('no daemon: this node detected or not', () => {
    expect(renderClusterUnreachable({endpoint: '/s', thisNode: null}).stdout).toBe(
      'connect() failed, errno=2\nFailed to connect to CTDB daemon (/s)\nFailed to detect PNN of the current node.\nIs this node part of CTDB cluster?\n')
    expect(renderClusterUnreachable({endpoint: '/s', errno: 111, thisNode: 1})).toMatchObject({
      stdout: 'connect() failed, errno=111\nFailed to connect to CTDB daemon (/s)\n', exitCode: 1})
    const nodes = [{pnn: 0, address: '10.0.0.1'}, {pnn: 1, address: '127.0.0.1', deleted: true}, {pnn: 2, address: '127.0.0.1'}]
    expect(detectThisNode(nodes, ['127.0.0.1', '::1'])).toBe(2)
    expect(detectThisNode(nodes, ['10.9.9.9'])).toBeNull()
  })
})

describe('state snapshot file', () => {
  const good = {
    cluster: 'fs-prod', configRevision: 7, generation: 42, leader: 0, thisNode: 1,
    nodes: [
      {pnn: 0, name: 'fs1', address: '10.0.0.1', flags: []},
      {pnn: 1, name: 'fs2', address: '10.0.0.2', flags: ['UNHEALTHY'], interfaces: {eth1: 'up', eth2: 'down'}},
    ],
    publicAddresses: [{address: '192.168.1.10', pnn: 0}],
  }

  test('the DESIGN.md example is valid', () => {
    expect(parseStateText(JSON.stringify(good), 's.json')).toEqual(good)
    const {publicAddresses: _omit, ...noAddresses} = good
    expect(parseStateText(JSON.stringify(noAddresses), 's.json').publicAddresses).toEqual([])
  })

  test.each([
    [{...good, extra: 1}, 's.json: unknown property "extra" (at /)'],
    [{...good, nodes: [{pnn: 0, flags: ['INACTIVE']}]}, 's.json: must be one of "DISCONNECTED", "UNHEALTHY", "DISABLED", "BANNED", "DELETED", "STOPPED" (at /nodes/0/flags/0)'],
    [{...good, nodes: [{pnn: 0, flags: [], interfaces: {eth0: 'sideways'}}]}, 's.json: must be one of "up", "down" (at /nodes/0/interfaces/eth0)'],
    [{...good, nodes: [{pnn: 0}]}, 's.json: missing required property "flags" (at /nodes/0)'],
    [{...good, nodes: [{pnn: 0, flags: []}, {pnn: 0, flags: []}]}, 's.json: pnn 0 is listed twice, first at /nodes/0 (at /nodes/1/pnn)'],
    [{cluster: 'x'}, 's.json: missing required property "nodes" (at /)'],
  ])('invalid: %#', (data, message) => {
    expect(() => parseStateText(JSON.stringify(data), 's.json')).toThrow(message)
  })

  test('unreadable and malformed files name the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctdbctl-state-'))
    try {
      const bad = path.join(dir, 'bad.json')
      writeFileSync(bad, '{"cluster": ')
      await expect(readStateFile(bad)).rejects.toThrow(`${bad}: not valid JSON`)
      await expect(readStateFile(path.join(dir, 'nope.json'))).rejects.toThrow(StateFileError)
      await expect(readStateFile(path.join(dir, 'nope.json'))).rejects.toThrow('nope.json: cannot read state snapshot: no such file')
      const ok = path.join(dir, 'ok.json')
      writeFileSync(ok, JSON.stringify(good))
      await expect(readStateFile(ok)).resolves.toMatchObject({thisNode: 1})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('group selection', () => {
  const groups = [{name: 'a'}, {name: 'b'}]
  test('default is the only group', () => {
    expect(selectGroup([{name: 'a'}], 'natgw', undefined, 'c.yaml')).toEqual({group: {name: 'a'}})
    expect(selectGroup(groups, 'lvs', 'b', 'c.yaml')).toEqual({group: {name: 'b'}})
  })
  test('errors list the groups', () => {
    expect(selectGroup(groups, 'natgw', undefined, 'c.yaml')).toEqual({error: 'c.yaml defines several NAT gateway groups (a, b): choose one with --group NAME'})
    expect(selectGroup([], 'lvs', undefined, 'c.yaml')).toEqual({error: 'c.yaml defines no LVS group (spec.lvs is empty)'})
    expect(selectGroup(groups, 'lvs', 'z', 'c.yaml')).toEqual({error: 'c.yaml has no LVS group "z"; its groups are: a, b'})
  })
})
