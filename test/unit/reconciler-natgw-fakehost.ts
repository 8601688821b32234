// A recording CommandRunner that also simulates the bits of a Linux host the NAT gateway and LVS
// reconcilers touch (addresses, main-table routes, iptables chains, /proc/sys, the IPVS table),
// so unit tests can check both the exact argv sequence and the resulting host state.
import type {CommandResult, CommandRunner} from '../../src/reconciler/natgw/command.js'

const ok = (stdout = ''): CommandResult => ({code: 0, stdout, stderr: ''})
const fail = (stderr: string, code = 2): CommandResult => ({code, stdout: '', stderr})

interface Route {
  dest: string
  via?: string
  metric?: string
}

export interface IpvsService {
  proto: 'TCP' | 'UDP'
  address: string
  persistent: string
  scheduler: string
  servers: {address: string; forward: 'Local' | 'Route'}[]
}

export class FakeHost {
  /** Every argv run, in order, with the `ip netns exec NS` prefix removed. */
  readonly calls: string[][] = []
  /** dev → addresses `a/bits` with scope. */
  readonly addrs = new Map<string, {address: string; scope: string}[]>()
  readonly routes: Route[] = []
  /** `table chain` → rule specs (words after the chain, as written). */
  readonly chains = new Map<string, string[][]>()
  readonly proc = new Map<string, string>()
  readonly ipvs: IpvsService[] = []
  /** Commands (argv joined by spaces, prefix match) that must fail. */
  readonly failing: string[] = []
  /** When false, `ipvsadm` behaves as missing (ENOENT). */
  ipvsadmInstalled = true
  /** Keys /proc/sys does not have (writes fail). */
  readonly missingProc = new Set<string>()

  constructor(devices: string[] = ['lo', 'eth0', 'eth1']) {
    for (const d of devices) this.addrs.set(d, [])
    this.chains.set('filter INPUT', [])
    this.chains.set('filter FORWARD', [])
    this.chains.set('filter OUTPUT', [])
    this.chains.set('nat POSTROUTING', [])
    this.chains.set('nat PREROUTING', [])
  }

  /** The commands of one program (e.g. 'ipvsadm'), each joined by spaces. */
  commands(program?: string): string[] {
    return this.calls.filter((c) => program === undefined || c[0] === program).map((c) => c.join(' '))
  }

  readonly runner: CommandRunner = async (argv) => {
    let a = [...argv]
    if (a[0] === 'ip' && a[1] === 'netns' && a[2] === 'exec') a = a.slice(4)
    this.calls.push(a)
    const line = a.join(' ')
    if (this.failing.some((f) => line.startsWith(f))) return fail(`simulated failure of ${line}`, 1)
    switch (a[0]) {
      case 'ip':
        return this.ip(a.slice(1))
      case 'iptables':
        return this.iptables(a.slice(1))
      case 'sysctl':
        return this.sysctl(a.slice(1))
      case 'ipvsadm':
        return this.ipvsadm(a.slice(1))
      case 'ss':
      case 'arping':
        return ok()
      default:
        return {code: -1, stdout: '', stderr: `${a[0]}: command not found`}
    }
  }

  /** `ip route show` lines, in the kernel's rendering (0.0.0.0/0 → default). */
  routeLines(): string[] {
    return this.routes.map((r) => [r.dest === '0.0.0.0/0' ? 'default' : r.dest, ...(r.via ? ['via', r.via] : []), ...(r.metric ? ['metric', r.metric] : [])].join(' '))
  }

  /** Rules of a chain rendered as written, e.g. `-s 1.2.3.0/24 ! -d … -j MASQUERADE`. */
  rules(table: string, chain: string): string[] {
    return (this.chains.get(`${table} ${chain}`) ?? []).map((r) => r.join(' '))
  }

  allRules(): string[] {
    return [...this.chains.entries()].flatMap(([k, rules]) => rules.map((r) => `${k}: ${r.join(' ')}`))
  }

  private ip(a: string[]): CommandResult {
    const [obj, action] = a
    if (obj === 'addr' || obj === 'address') {
      if (action === 'show' || a[0] === '-o') return ok()
      const [address, , dev] = a.slice(2)
      const list = this.addrs.get(dev)
      if (!list) return fail(`Cannot find device "${dev}"`, 1)
      const scope = a[5] === 'scope' ? a[6] : 'global'
      const i = list.findIndex((x) => x.address === address)
      if (action === 'add') {
        if (i >= 0) return fail('RTNETLINK answers: File exists')
        list.push({address, scope})
        return ok()
      }
      if (action === 'del') {
        if (i < 0) return fail('RTNETLINK answers: Cannot assign requested address')
        list.splice(i, 1)
        return ok()
      }
    }
    if (obj === 'route') {
      const dest = a[2]
      const opts = new Map<string, string>()
      for (let i = 3; i + 1 < a.length; i += 2) opts.set(a[i], a[i + 1])
      const metric = opts.get('metric')
      const i = this.routes.findIndex((r) => r.dest === dest && r.metric === metric)
      if (action === 'add') {
        if (i >= 0) return fail('RTNETLINK answers: File exists')
        this.routes.push({dest, via: opts.get('via'), metric})
        return ok()
      }
      if (action === 'del') {
        if (i < 0) return fail('RTNETLINK answers: No such process')
        this.routes.splice(i, 1)
        return ok()
      }
    }
    if (a[0] === '-o' && a[1] === 'addr') {
      const list = this.addrs.get(a[4]) ?? []
      return ok(list.map((x, n) => `${n + 1}: ${a[4]}    inet ${x.address} scope ${x.scope} ${a[4]}\\       valid_lft forever\n`).join(''))
    }
    return fail(`unsupported: ip ${a.join(' ')}`)
  }

  private iptables(a: string[]): CommandResult {
    const words = a.filter((w) => w !== '-w')
    let table = 'filter'
    if (words[0] === '-t') {
      table = words[1]
      words.splice(0, 2)
    }
    const action = words[0]
    if (action === '-S') {
      const lines: string[] = []
      for (const [k, rules] of this.chains) {
        const [t, chain] = k.split(' ')
        if (t !== table) continue
        lines.push(`-P ${chain} ACCEPT`)
        for (const r of rules) lines.push(['-A', chain, ...r.map((w, i) => (r[i - 1] === '--comment' ? `"${w}"` : w))].join(' '))
      }
      return ok(lines.join('\n') + '\n')
    }
    const chain = words[1]
    const spec = words.slice(2)
    const key = `${table} ${chain}`
    const rules = this.chains.get(key)
    if (!rules) return fail('iptables: No chain/target/match by that name.', 1)
    const i = rules.findIndex((r) => r.join(' ') === spec.join(' '))
    switch (action) {
      case '-A':
        rules.push(spec)
        return ok()
      case '-I':
        rules.unshift(spec)
        return ok()
      case '-C':
        return i >= 0 ? ok() : fail('iptables: Bad rule (does a matching rule exist in that chain?).', 1)
      case '-D':
        if (i < 0) return fail('iptables: Bad rule (does a matching rule exist in that chain?).', 1)
        rules.splice(i, 1)
        return ok()
    }
    return fail(`unsupported: iptables ${a.join(' ')}`)
  }

  private sysctl(a: string[]): CommandResult {
    if (a[0] === '-n') {
      const v = this.proc.get(a[1])
      return v === undefined ? fail(`sysctl: cannot stat /proc/sys/${a[1]}`, 255) : ok(`${v}\n`)
    }
    const kv = a[a.length - 1]
    const eq = kv.indexOf('=')
    const key = kv.slice(0, eq)
    if (this.missingProc.has(key)) return fail(`sysctl: cannot stat /proc/sys/${key}: No such file or directory`, 255)
    this.proc.set(key, kv.slice(eq + 1))
    return ok()
  }

  private ipvsadm(a: string[]): CommandResult {
    if (!this.ipvsadmInstalled) return {code: -1, stdout: '', stderr: 'ipvsadm: command not found'}
    if (a[0] === '--version') return ok('ipvsadm v1.31\n')
    const proto = a[1] === '-t' ? 'TCP' : 'UDP'
    const address = a[2]
    const i = this.ipvs.findIndex((s) => s.proto === proto && s.address === address)
    switch (a[0]) {
      case '-D':
        if (i < 0) return fail('No such service', 1)
        this.ipvs.splice(i, 1)
        return ok()
      case '-A':
        if (i >= 0) return fail('Service already exists', 1)
        this.ipvs.push({proto, address, persistent: a[a.indexOf('-p') + 1], scheduler: a[a.indexOf('-s') + 1], servers: []})
        return ok()
      case '-a': {
        if (i < 0) return fail('Service not defined', 1)
        const server = a[a.indexOf('-r') + 1]
        this.ipvs[i].servers.push({address: server, forward: a.includes('-g') ? 'Route' : server === '127.0.0.1' ? 'Local' : 'Route'})
        return ok()
      }
    }
    return fail(`unsupported: ipvsadm ${a.join(' ')}`)
  }

  /** The IPVS table like the body of `ipvsadm -l -n` (real servers sorted by address, as ipvsadm prints them). */
  ipvsTable(): string[] {
    return this.ipvs.flatMap((s) => [
      `${s.proto}  ${s.address}:0 ${s.scheduler} persistent ${s.persistent}`,
      ...[...s.servers].sort((x, y) => x.address.localeCompare(y.address, 'en', {numeric: true})).map((r) => `  -> ${r.address}:0 ${r.forward}`),
    ])
  }
}
