import {Args, Command, Flags} from '@oclif/core'

export default class KillTcp extends Command {
  static override summary = "Reset TCP connections by impersonating one end, as CTDB's ctdb_killtcp."
  static override description = [
    'Reads connections from standard input, one `SRC:PORT DST:PORT` per line (IPv4 `a.b.c.d:port`, IPv6',
    '`[addr]:port`; empty and `#` lines are skipped), or one connection from the two arguments. For each, it',
    'sends DST a tickle ACK that appears to come from SRC, captures DST\'s reply and answers it with an RST',
    'carrying the sequence number DST expects, so DST\'s socket is reset. CTDB\'s schedule: a round every 100 ms,',
    'at most 300 tickles per round, at most 50 rounds (about 5 s); connections never answered are left alone.',
    'To reset both ends of a connection give both lines (`PEER LOCAL` and `LOCAL PEER`), as CTDB does when it',
    'releases an address. Bad lines are reported on standard error with their line number and the others are',
    'processed; the exit status is then 255, as ctdb_killtcp exits on bad input. Exit 0 otherwise, even if',
    'some connections could not be reset; 255 if packets cannot be captured. Needs root (raw sockets).',
    'Capture defaults to tcpdump on all interfaces (both directions, before the firewall, like CTDB\'s packet',
    'socket) together with in-process raw sockets; --capture raw uses only the latter, which see replies',
    'arriving at this host but not the ones it sends. CTDB_DEBUGLEVEL (ERROR…DEBUG) sets the log level.',
  ].join(' ')

  static override examples = [
    "ss -tnH state established 'src 10.0.1.5' | awk '{print $4, $3; print $3, $4}' | <%= config.bin %> killtcp --interface eth1",
    '<%= config.bin %> killtcp 10.0.1.99:40312 10.0.1.5:445',
  ]

  // Arguments are checked here so that bad usage gives ctdb_killtcp's usage text and status.
  static override strict = false
  static override args = {
    // ignoreStdin: oclif would otherwise read a piped standard input into a missing argument.
    src: Args.string({description: 'the end to impersonate (ip:port)', ignoreStdin: true}),
    dst: Args.string({description: 'the end to reset (ip:port)', ignoreStdin: true}),
  }

  static override flags = {
    interface: Flags.string({
      char: 'i',
      description: "network interface (accepted for compatibility; capture covers all interfaces, as CTDB's packet socket; scopes IPv6 link-local destinations)",
    }),
    capture: Flags.string({
      description: 'how replies are captured: tcpdump and raw sockets (auto), raw sockets only, or tcpdump only',
      options: ['auto', 'raw', 'pcap'],
      default: 'auto',
    }),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(KillTcp)
    const {runKillTcpCommand} = await import('../net/killtcp-command.js')
    process.exitCode = await runKillTcpCommand({
      argv: argv as string[],
      iface: flags.interface,
      capture: flags.capture as 'auto' | 'raw' | 'pcap',
      bin: this.config.bin,
    })
  }
}
