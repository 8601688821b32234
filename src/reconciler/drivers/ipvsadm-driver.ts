// ipvsadm through argv arrays, with exactly the command lines of CTDB's 91.lvs event script
// (helpers-spec.md §2.4): services on all ports of the LVS address for TCP (-t) and UDP (-u),
// persistence 1999999 s, least-connection scheduling, direct-routing real servers (-g) and the
// leader itself as the local real server 127.0.0.1.
import {access} from 'node:fs/promises'
import {CommandError, runIn, type CommandResult, type CommandTarget} from '../natgw/command.js'

export type IpvsProtocol = 'tcp' | 'udp'

/** CTDB's persistence timeout (about 23 days). */
export const LVS_PERSISTENCE = '1999999'
/** CTDB's scheduler: least-connection. */
export const LVS_SCHEDULER = 'lc'

const flag = (p: IpvsProtocol) => (p === 'tcp' ? '-t' : '-u')

/** An address as ipvsadm wants it in a service or server (IPv6 in brackets). */
export function ipvsAddress(address: string): string {
  return address.includes(':') ? `[${address}]` : address
}

/** The ipvsadm arguments (without the program name) of CTDB's script. */
export const ipvsadmArgs = {
  /** `ipvsadm -D -t IP` */
  deleteService: (p: IpvsProtocol, service: string): string[] => ['-D', flag(p), ipvsAddress(service)],
  /** `ipvsadm -A -t IP -p 1999999 -s lc` */
  addService: (p: IpvsProtocol, service: string): string[] => ['-A', flag(p), ipvsAddress(service), '-p', LVS_PERSISTENCE, '-s', LVS_SCHEDULER],
  /** `ipvsadm -a -t IP -r NODE -g` (direct routing) */
  addRealServer: (p: IpvsProtocol, service: string, server: string): string[] => ['-a', flag(p), ipvsAddress(service), '-r', ipvsAddress(server), '-g'],
  /** `ipvsadm -a -t IP -r 127.0.0.1` (the leader itself, local) */
  addLocalServer: (p: IpvsProtocol, service: string): string[] => ['-a', flag(p), ipvsAddress(service), '-r', service.includes(':') ? '[::1]' : '127.0.0.1'],
  /** `ipvsadm -l -n` */
  list: (): string[] => ['-l', '-n'],
}

export class IpvsadmDriver {
  constructor(private readonly target: CommandTarget = {}) {}

  /** Runs `ipvsadm <args>`; returns the result without throwing. */
  exec(args: readonly string[]): Promise<CommandResult> {
    return runIn(this.target, ['ipvsadm', ...args])
  }

  /** Runs `ipvsadm <args>` and throws CommandError unless it exits 0. */
  async run(args: readonly string[]): Promise<string> {
    const r = await this.exec(args)
    if (r.code !== 0) throw new CommandError(['ipvsadm', ...args], r)
    return r.stdout
  }

  deleteService(p: IpvsProtocol, service: string): Promise<string> {
    return this.run(ipvsadmArgs.deleteService(p, service))
  }

  addService(p: IpvsProtocol, service: string): Promise<string> {
    return this.run(ipvsadmArgs.addService(p, service))
  }

  addRealServer(p: IpvsProtocol, service: string, server: string): Promise<string> {
    return this.run(ipvsadmArgs.addRealServer(p, service, server))
  }

  addLocalServer(p: IpvsProtocol, service: string): Promise<string> {
    return this.run(ipvsadmArgs.addLocalServer(p, service))
  }

  /** `ipvsadm -l -n` as printed. */
  list(): Promise<string> {
    return this.run(ipvsadmArgs.list())
  }
}

/** True when this kernel has IPVS (the table exists in /proc). */
export function ipvsAvailable(): Promise<boolean> {
  return access('/proc/net/ip_vs').then(
    () => true,
    () => false,
  )
}
