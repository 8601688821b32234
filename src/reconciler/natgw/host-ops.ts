// Host operations planned by the NAT gateway and LVS planners and their executor. A plan is an
// ordered list of these; the executor applies them through the drivers one by one and, like
// CTDB's event scripts, never stops at a failure: a failing "quiet" operation (one whose output
// CTDB discards, `>/dev/null 2>&1`) is logged at debug level only, any other failure as a warning.
import {IptablesDriver, iptablesArgv, type IptablesRule} from '../drivers/iptables-driver.js'
import {IpvsadmDriver} from '../drivers/ipvsadm-driver.js'
import {SysctlDriver} from '../drivers/sysctl-driver.js'
import type {CommandTarget} from './command.js'
import {IpHelper} from './ip-helper.js'

export type HostOp =
  /** Write /proc/sys/<key> (CTDB's set_proc; set_proc_maybe when ifWritable). */
  | {kind: 'sysctl'; key: string; value: string; ifWritable?: boolean; quiet?: boolean}
  /** `iptables -A|-I|-D` of one tagged rule. */
  | {kind: 'iptables'; action: 'append' | 'insert' | 'delete'; rule: IptablesRule; quiet?: boolean}
  /** Delete every rule carrying the tag (not in CTDB: sweeps rules left by a forgotten old config). */
  | {kind: 'iptables-purge'; tag: string; quiet?: boolean}
  /** `ip <argv…>` (addr add/del, route add/del), exactly as CTDB's script writes it. */
  | {kind: 'ip'; argv: string[]; quiet?: boolean}
  /** `ipvsadm <args…>` */
  | {kind: 'ipvsadm'; args: string[]; quiet?: boolean}
  /** Reset the local end of established TCP connections whose local address is `address`. */
  | {kind: 'kill-tcp-local'; address: string; iface: string; quiet?: boolean}
  /** `ctdb gratarp <address> <iface>` (3 gratuitous ARPs, 1 s apart; output discarded). */
  | {kind: 'gratuitous-arp'; address: string; iface: string; quiet?: boolean}

/** A one-line, shell-like rendering of an operation (for logs, plans and tests). */
export function describeOp(op: HostOp): string {
  switch (op.kind) {
    case 'sysctl':
      return `${op.ifWritable ? 'set_proc_maybe' : 'set_proc'} ${op.key} ${op.value}`
    case 'iptables':
      return iptablesArgv(op.action === 'append' ? '-A' : op.action === 'insert' ? '-I' : '-D', op.rule).join(' ')
    case 'iptables-purge':
      return `iptables: delete every rule tagged ${op.tag}`
    case 'ip':
      return ['ip', ...op.argv].join(' ')
    case 'ipvsadm':
      return ['ipvsadm', ...op.args].join(' ')
    case 'kill-tcp-local':
      return `kill_tcp_connections_local_only ${op.iface} ${op.address}`
    case 'gratuitous-arp':
      return `ctdb gratarp ${op.address} ${op.iface}`
  }
}

export interface HostDrivers {
  iptables: IptablesDriver
  ipvsadm: IpvsadmDriver
  sysctl: SysctlDriver
  ip: IpHelper
}

/** The real drivers for a namespace (or this process's own namespace), optionally with a recording runner. */
export function hostDrivers(target: CommandTarget = {}): HostDrivers {
  return {iptables: new IptablesDriver(target), ipvsadm: new IpvsadmDriver(target), sysctl: new SysctlDriver(target), ip: new IpHelper(target)}
}

/** Structured logging, compatible with a pino Logger. */
export interface ReconcileLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

export const silentLogger: ReconcileLogger = {info: () => undefined, warn: () => undefined, debug: () => undefined}

export interface OpResult {
  op: HostOp
  command: string
  ok: boolean
  error?: string
}

export interface ExecuteOptions {
  /**
   * Wait for gratuitous ARPs to finish (about 3 s). Default false: like `ctdb gratarp`, which only
   * asks the daemon to send them, they run in the background; `pending` tracks them.
   */
  waitForArp?: boolean
  /** Background work (gratuitous ARPs) is added here when not awaited. */
  pending?: Set<Promise<void>>
}

export interface ExecuteResult {
  results: OpResult[]
  /** The operations that failed, quiet ones included. */
  failures: OpResult[]
}

async function applyOp(op: HostOp, d: HostDrivers, log: ReconcileLogger, options: ExecuteOptions): Promise<void> {
  switch (op.kind) {
    case 'sysctl':
      if (op.ifWritable) await d.sysctl.setIfWritable(op.key, op.value)
      else await d.sysctl.set(op.key, op.value)
      return
    case 'iptables':
      if (op.action === 'append') await d.iptables.append(op.rule)
      else if (op.action === 'insert') await d.iptables.insert(op.rule)
      else await d.iptables.delete(op.rule)
      return
    case 'iptables-purge': {
      const n = await d.iptables.purge(op.tag)
      if (n > 0) log.info({tag: op.tag, rules: n}, `deleted ${n} leftover iptables rule(s) tagged ${op.tag}`)
      return
    }
    case 'ip':
      await d.ip.ip(op.argv)
      return
    case 'ipvsadm':
      await d.ipvsadm.run(op.args)
      return
    case 'kill-tcp-local': {
      const n = await d.ip.killTcpLocal(op.address)
      if (n > 0) log.info({address: op.address, killed: n}, `Killed ${n}/${n} TCP connections to released IP ${op.address}`)
      return
    }
    case 'gratuitous-arp': {
      const arp = d.ip.gratuitousArp(op.address, op.iface)
      if (options.waitForArp) return arp
      const tracked: Promise<void> = arp
        .catch((e: unknown) => log.debug({command: describeOp(op), error: String(e)}, 'gratuitous ARP failed'))
        .finally(() => options.pending?.delete(tracked))
      options.pending?.add(tracked)
      return
    }
  }
}

/** Applies the operations in order through the drivers; never stops at a failure. */
export async function executeHostOps(
  ops: readonly HostOp[],
  drivers: HostDrivers,
  log: ReconcileLogger = silentLogger,
  options: ExecuteOptions = {},
): Promise<ExecuteResult> {
  const results: OpResult[] = []
  for (const op of ops) {
    const command = describeOp(op)
    try {
      await applyOp(op, drivers, log, options)
      results.push({op, command, ok: true})
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e)
      results.push({op, command, ok: false, error})
      if (op.quiet) log.debug({command, error}, 'command failed (ignored, as CTDB)')
      else log.warn({command, error}, 'command failed; continuing, as CTDB does')
    }
  }
  return {results, failures: results.filter((r) => !r.ok)}
}
