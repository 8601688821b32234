// The real IP driver: iproute2 for addresses and links, arping for gratuitous ARP, ipv6toolkit's
// na6 for unsolicited neighbour advertisements. Every command is an argv array (never a shell);
// with `netns` every command runs as `ip netns exec NS …`, so a process outside the namespace
// (a test, or a daemon supervising a namespace) can drive it.
import {execFile} from 'node:child_process'
import {helperEnvironment} from '../../security/helper-env.js'
import {parseIp} from '../../config/ip.js'
import {IpCommandError, MissingToolError, type AddressOnInterface, type Announcement, type HostAddress, type HostLink, type IpDriver} from './ip-driver.js'

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs argv[0] with argv[1..]; resolves with the exit code (never rejects on a non-zero exit). */
export type CommandRunner = (argv: readonly string[], timeoutMs: number) => Promise<CommandResult>

export type ArpingFlavour = 'habets' | 'iputils'

export interface Iproute2DriverOptions {
  /** Run every command inside this network namespace (`ip netns exec NS …`). */
  netns?: string
  /**
   * IPv6 duplicate address detection as CTDB's 10.interface does it: add, then wait up to
   * `dadTimeoutMs` for the address to stop being tentative, failing (and removing it) when DAD
   * fails. false: add with `nodad` (faster takeover, no duplicate check). Default true.
   */
  ipv6Dad?: boolean
  dadTimeoutMs?: number
  /** Limit for each command. Default 10 s. */
  commandTimeoutMs?: number
  /** Program names or paths. Defaults: ip, arping, na6. */
  tools?: {ip?: string; arping?: string; na6?: string}
  /** Which arping is installed; detected from `arping --help` when not given. */
  arpingFlavour?: ArpingFlavour
  /** Replaces process spawning (tests of the argv this driver builds). */
  run?: CommandRunner
}

const PACKAGES: Record<string, string> = {ip: 'iproute2', arping: 'arping', na6: 'ipv6toolkit'}

export const defaultRunner: CommandRunner = (argv, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), {timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8', env: helperEnvironment()}, (err, stdout, stderr) => {
      if (!err) return resolve({code: 0, stdout, stderr})
      const e = err as NodeJS.ErrnoException & {code?: number | string; killed?: boolean; signal?: string}
      if (e.code === 'ENOENT') return reject(e)
      if (e.killed || e.signal) return resolve({code: -1, stdout, stderr: `${stderr}\n(killed by ${e.signal ?? 'timeout'} after ${timeoutMs} ms)`})
      resolve({code: typeof e.code === 'number' ? e.code : 1, stdout, stderr: stderr || e.message})
    })
  })

interface IpJsonAddrInfo {
  family?: string
  local?: string
  prefixlen?: number
  tentative?: boolean
  dadfailed?: boolean
  secondary?: boolean
}
interface IpJsonLink {
  ifname?: string
  flags?: string[]
  link_type?: string
  address?: string
  addr_info?: IpJsonAddrInfo[]
}

/** Parses `ip -j addr show` output. */
export function parseIpAddrJson(text: string): HostAddress[] {
  const links = JSON.parse(text || '[]') as IpJsonLink[]
  const out: HostAddress[] = []
  for (const link of links) {
    if (!link.ifname) continue
    for (const ai of link.addr_info ?? []) {
      if ((ai.family !== 'inet' && ai.family !== 'inet6') || !ai.local || ai.prefixlen === undefined) continue
      const parsed = parseIp(ai.local)
      const a: HostAddress = {interface: link.ifname, address: parsed?.address ?? ai.local, prefixLength: ai.prefixlen, family: ai.family === 'inet' ? 4 : 6}
      if (ai.tentative) a.tentative = true
      if (ai.dadfailed) a.dadFailed = true
      if (ai.secondary) a.secondary = true
      out.push(a)
    }
  }
  return out
}

/** Parses `ip -j link show` output. */
export function parseIpLinkJson(text: string): HostLink[] {
  const links = JSON.parse(text || '[]') as IpJsonLink[]
  return links
    .filter((l) => l.ifname)
    .map((l) => {
      const flags = l.flags ?? []
      const adminUp = flags.includes('UP')
      const carrier = flags.includes('LOWER_UP')
      const link: HostLink = {name: l.ifname!, up: adminUp && carrier, adminUp, carrier}
      if (l.link_type === 'ether' && l.address) link.mac = l.address
      return link
    })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class Iproute2Driver implements IpDriver {
  readonly name = 'iproute2'
  private readonly run: CommandRunner
  private readonly timeoutMs: number
  private readonly tools: {ip: string; arping: string; na6: string}
  private flavour?: Promise<ArpingFlavour>

  constructor(private readonly options: Iproute2DriverOptions = {}) {
    this.run = options.run ?? defaultRunner
    this.timeoutMs = options.commandTimeoutMs ?? 10_000
    this.tools = {ip: 'ip', arping: 'arping', na6: 'na6', ...options.tools}
    if (options.arpingFlavour) this.flavour = Promise.resolve(options.arpingFlavour)
  }

  /** Runs a tool (inside the namespace when configured); resolves with its exit code. */
  private async exec(tool: keyof typeof PACKAGES, args: string[]): Promise<CommandResult & {argv: string[]}> {
    const program = this.tools[tool as 'ip' | 'arping' | 'na6']
    const argv = this.options.netns ? [this.tools.ip, 'netns', 'exec', this.options.netns, program, ...args] : [program, ...args]
    let r: CommandResult
    try {
      r = await this.run(argv, this.timeoutMs)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingToolError(this.options.netns ? 'ip' : program, this.options.netns ? 'iproute2' : PACKAGES[tool])
      throw e
    }
    // `ip netns exec` reports a missing inner program this way.
    if (r.code !== 0 && /exec of ".*" failed: No such file or directory/.test(r.stderr)) throw new MissingToolError(program, PACKAGES[tool])
    return {...r, argv}
  }

  private async ip(args: string[]): Promise<string> {
    const r = await this.exec('ip', args)
    if (r.code !== 0) throw new IpCommandError(r.argv, r.stderr, r.code)
    return r.stdout
  }

  async listAddresses(): Promise<HostAddress[]> {
    return parseIpAddrJson(await this.ip(['-j', 'addr', 'show']))
  }

  async linkStates(): Promise<HostLink[]> {
    return parseIpLinkJson(await this.ip(['-j', 'link', 'show']))
  }

  private async addressesOn(iface: string, family: 4 | 6): Promise<HostAddress[]> {
    return parseIpAddrJson(await this.ip(['-j', `-${family}`, 'addr', 'show', 'dev', iface]))
  }

  async addAddress(a: AddressOnInterface): Promise<void> {
    const cidr = `${a.address}/${a.prefixLength}`
    const dad = this.options.ipv6Dad ?? true
    // As CTDB's add_ip_to_iface: `brd +` for IPv4.
    const args = a.family === 4 ? ['addr', 'add', cidr, 'brd', '+', 'dev', a.interface] : ['addr', 'add', cidr, 'dev', a.interface, ...(dad ? [] : ['nodad'])]
    const r = await this.exec('ip', args)
    if (r.code !== 0 && !/already assigned|File exists/i.test(r.stderr)) throw new IpCommandError(r.argv, r.stderr, r.code)
    if (a.family === 6 && dad) await this.waitForDad(a)
  }

  /** Waits for IPv6 DAD to finish; removes the address and fails when it did not succeed. */
  private async waitForDad(a: AddressOnInterface): Promise<void> {
    const deadline = Date.now() + (this.options.dadTimeoutMs ?? 5000)
    for (;;) {
      const mine = (await this.addressesOn(a.interface, 6)).find((h) => h.address === a.address)
      if (!mine) throw new Error(`${a.address}/${a.prefixLength} vanished from ${a.interface} during duplicate address detection`)
      if (mine.dadFailed || (mine.tentative && Date.now() > deadline)) {
        await this.removeAddress(a).catch(() => undefined)
        throw new Error(`${a.address}/${a.prefixLength} on ${a.interface}: duplicate address detection ${mine.dadFailed ? 'failed (the address is in use elsewhere on the link)' : 'did not finish in time'}`)
      }
      if (!mine.tentative) return
      await sleep(100)
    }
  }

  async removeAddress(a: AddressOnInterface): Promise<void> {
    const cidr = `${a.address}/${a.prefixLength}`
    // Deleting a primary IPv4 address deletes its secondaries too (unless promote_secondaries is
    // set): remember them and put back the ones that vanished, as CTDB's delete_ip_from_iface.
    let before: HostAddress[] = []
    if (a.family === 4) {
      before = await this.addressesOn(a.interface, 4).catch(() => [])
      const target = before.find((h) => h.address === a.address && h.prefixLength === a.prefixLength)
      if (before.length > 0 && !target) return
      if (!target || target.secondary) before = []
    }
    const r = await this.exec('ip', ['addr', 'del', cidr, 'dev', a.interface])
    if (r.code !== 0 && !/not found|Cannot assign requested address/i.test(r.stderr)) throw new IpCommandError(r.argv, r.stderr, r.code)
    const others = before.filter((h) => !(h.address === a.address && h.prefixLength === a.prefixLength))
    if (others.length === 0) return
    const after = await this.addressesOn(a.interface, 4)
    for (const lost of others.filter((h) => !after.some((x) => x.address === h.address && x.prefixLength === h.prefixLength))) {
      const readd = await this.exec('ip', ['addr', 'add', `${lost.address}/${lost.prefixLength}`, 'brd', '+', 'dev', a.interface])
      if (readd.code !== 0 && !/already assigned|File exists/i.test(readd.stderr)) throw new IpCommandError(readd.argv, readd.stderr, readd.code)
    }
  }

  /** Which arping is installed: Thomas Habets' (Debian `arping`) or iputils/busybox style. */
  arpingFlavour(): Promise<ArpingFlavour> {
    this.flavour ??= this.exec('arping', ['--help'])
      .then((r): ArpingFlavour => (/Habets/i.test(r.stdout + r.stderr) ? 'habets' : 'iputils'))
      .catch((e) => {
        this.flavour = undefined
        throw e
      })
    return this.flavour
  }

  async announce(a: Announcement): Promise<void> {
    if (a.family === 6) {
      // Unsolicited NA from the address to all nodes, Override flag, target link-layer address
      // option: the packet CTDB's ctdb_sys_send_arp builds (helpers-spec §3.9).
      const r = await this.exec('na6', ['-i', a.interface, '-s', a.address, '-d', 'ff02::1', '-t', a.address, '-o', '-e'])
      if (r.code !== 0) throw new IpCommandError(r.argv, r.stderr || r.stdout, r.code)
      return
    }
    // A gratuitous ARP request then a reply (CTDB sends both, helpers-spec §3.9).
    const flavour = await this.arpingFlavour()
    const variants =
      flavour === 'habets'
        ? [
            // -S: without it this arping needs an IPv4 address already on the interface.
            ['-U', '-S', a.address, '-c', '1', '-w', '0', '-i', a.interface, a.address],
            ['-U', '-P', '-S', a.address, '-c', '1', '-w', '0', '-i', a.interface, a.address],
          ]
        : [
            ['-U', '-c', '1', '-I', a.interface, a.address],
            ['-A', '-c', '1', '-I', a.interface, a.address],
          ]
    for (const args of variants) {
      const r = await this.exec('arping', args)
      // Habets' arping exits 1 when nothing answers, which is normal here: judge by what it sent.
      const sent = flavour === 'habets' ? /\b[1-9]\d* packets transmitted/.test(r.stdout) : r.code === 0
      if (!sent) throw new IpCommandError(r.argv, r.stderr || r.stdout, r.code)
    }
  }
}
