// The LVS reconciler of one node for one group: plans with the LVS planner and applies through
// the drivers. Stateless like CTDB's 91.lvs, except that it remembers the group it set up so a
// changed address or interface is first torn down with the old values.
import type {LvsGroup} from '../../config/model.js'
import type {CommandTarget} from '../natgw/command.js'
import {executeHostOps, hostDrivers, silentLogger, type ExecuteResult, type HostDrivers, type HostOp, type ReconcileLogger} from '../natgw/host-ops.js'
import {planLvsIpreallocated, planLvsShutdown, planLvsStartup, type LvsDesired} from './plan.js'

export const IPVSADM_MISSING = 'LVS configured but ipvsadm not found'

export interface LvsReconcilerOptions extends CommandTarget {
  drivers?: HostDrivers
  logger?: ReconcileLogger
  /** Wait for the leader's gratuitous ARPs (about 3 s) instead of sending them in the background. */
  waitForArp?: boolean
}

export interface LvsApplyResult extends ExecuteResult {
  ops: HostOp[]
  /** False when nothing was done because ipvsadm is missing (CTDB: message, exit 0). */
  ran: boolean
}

export class LvsReconciler {
  private readonly drivers: HostDrivers
  private readonly log: ReconcileLogger
  private group: LvsGroup | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private readonly pending = new Set<Promise<void>>()

  constructor(private readonly options: LvsReconcilerOptions = {}) {
    this.drivers = options.drivers ?? hostDrivers(options)
    this.log = options.logger ?? silentLogger
  }

  /** The group last set up (startup or ipreallocated), undefined after shutdown. */
  get applied(): LvsGroup | undefined {
    return this.group
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  private async run(ops: HostOp[]): Promise<LvsApplyResult> {
    const probe = await this.drivers.ipvsadm.exec(['--version'])
    if (probe.code === -1) {
      this.log.warn({}, IPVSADM_MISSING)
      return {ops, ran: false, results: [], failures: []}
    }
    const result = await executeHostOps(ops, this.drivers, this.log, {waitForArp: this.options.waitForArp, pending: this.pending})
    return {ops, ran: true, ...result}
  }

  /** Teardown of a previously set-up group whose address or interface changed. */
  private replaced(g: LvsGroup): HostOp[] {
    const old = this.group
    if (!old || (old.address === g.address && old.interface === g.interface && old.family === g.family)) return []
    this.log.info({old: old.address, new: g.address}, 'LVS address changed: removing the old one first')
    return planLvsShutdown(old)
  }

  startup(group: LvsGroup): Promise<LvsApplyResult> {
    return this.serial(async () => {
      const r = await this.run([...this.replaced(group), ...planLvsStartup(group)])
      if (r.ran) this.group = group
      return r
    })
  }

  /** ipreallocated with the roles from lvsDesired (every reallocation, every member). */
  ipreallocated(desired: LvsDesired): Promise<LvsApplyResult> {
    return this.serial(async () => {
      const leader = desired.leader === desired.thisPnn
      if (leader) this.log.info({group: desired.group.name, servers: desired.servers.map((s) => s.pnn)}, `LVS ${desired.group.name}: leader`)
      const r = await this.run([...this.replaced(desired.group), ...planLvsIpreallocated(desired)])
      if (r.ran) this.group = desired.group
      return r
    })
  }

  /** shutdown (or the group was removed / this node left it): with the last set-up group, else `group`. */
  shutdown(group?: LvsGroup): Promise<LvsApplyResult> {
    return this.serial(async () => {
      const g = this.group ?? group
      if (!g) return {ops: [], ran: false, results: [], failures: []}
      const r = await this.run(planLvsShutdown(g))
      this.group = undefined
      return r
    })
  }

  /** Waits for background gratuitous ARPs (call before exiting). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending])
  }
}
