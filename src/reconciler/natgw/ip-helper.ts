// The few iproute2/ss/arping operations the NAT gateway and LVS reconcilers need, as argv arrays
// (no shell), optionally inside a namespace. Deliberately small and self-contained: the general
// ip driver is written separately and may replace this later.
import {mustRun, runIn, type CommandTarget} from './command.js'

export class IpHelper {
  constructor(private readonly target: CommandTarget = {}) {}

  /** `ip <args>`; throws CommandError on failure. */
  async ip(args: readonly string[]): Promise<string> {
    return (await mustRun(this.target, ['ip', ...args])).stdout
  }

  /** Addresses (`a/bits`) on a device, with their scope, from `ip -o addr show dev DEV`. */
  async addresses(dev: string): Promise<{address: string; scope: string}[]> {
    const out = await this.ip(['-o', 'addr', 'show', 'dev', dev])
    const found: {address: string; scope: string}[] = []
    for (const line of out.split('\n')) {
      const m = /\binet6?\s+(\S+)(?:.*?\bscope\s+(\S+))?/.exec(line)
      if (m) found.push({address: m[1], scope: m[2] ?? 'global'})
    }
    return found
  }

  /** Main-table routes as `ip route show` prints them, one per line. */
  async routes(): Promise<string[]> {
    return (await this.ip(['route', 'show'])).split('\n').filter((l) => l.trim() !== '')
  }

  /**
   * Resets this node's end of every established TCP connection whose local address is `address`
   * (`ss -K`, the modern equivalent of CTDB's one-way ctdb_killtcp). Returns how many were killed.
   */
  async killTcpLocal(address: string): Promise<number> {
    const src = address.includes(':') ? `[${address}]` : address
    const r = await mustRun(this.target, ['ss', '-K', '-t', '-n', '-H', 'state', 'established', 'src', src])
    return r.stdout.split('\n').filter((l) => l.trim() !== '').length
  }

  /**
   * Gratuitous ARP for `address` on `iface`: 3 unsolicited ARP requests 1 s apart, as CTDB's
   * `ctdb gratarp` has the daemon send. Resolves when arping exits (about 3 s).
   */
  async gratuitousArp(address: string, iface: string): Promise<void> {
    if (address.includes(':')) throw new Error(`no gratuitous ARP for the IPv6 address ${address} (unsolicited neighbour advertisements are not implemented)`)
    // -S is needed: this arping's -U alone keeps the interface's own address as the sender.
    const r = await runIn(this.target, ['arping', '-q', '-U', '-S', address, '-c', '3', '-W', '1', '-w', '4', '-i', iface, address])
    // arping exits 1 when nobody answered, which is normal for unsolicited ARP.
    if (r.code !== 0 && r.code !== 1) throw new Error(`arping for ${address} on ${iface} failed (exit ${r.code}): ${r.stderr.trim()}`)
  }
}
