// The NAT gateway reconciler of one node for one group: plans with planNatgw and applies through
// the drivers, remembering what it applied (in memory and, optionally, in a state file that plays
// the part of CTDB's cfg_old/leader_old, so a restarted daemon still clears with the old values).
import {mkdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import type {NatgwGroup} from '../../config/model.js'
import type {CommandTarget} from './command.js'
import {executeHostOps, hostDrivers, silentLogger, type ExecuteResult, type HostDrivers, type ReconcileLogger} from './host-ops.js'
import {planNatgw, planNatgwShutdown, planNatgwStartup, type NatgwPlan, type NatgwSnapshot} from './plan.js'

export interface NatgwReconcilerOptions extends CommandTarget {
  /** JSON file holding the last applied snapshot (survives restarts); none = memory only. */
  stateFile?: string
  /** Drivers to use instead of the real ones for `netns`/`runner`. */
  drivers?: HostDrivers
  logger?: ReconcileLogger
}

export interface NatgwApplyResult extends ExecuteResult {
  plan: NatgwPlan
}

interface StateFileBody {
  version: 1
  applied: NatgwSnapshot
}

export class NatgwReconciler {
  private readonly drivers: HostDrivers
  private readonly log: ReconcileLogger
  private last: NatgwSnapshot | undefined
  private loaded = false
  /** Serialises calls: an ipreallocated never overlaps another or a shutdown. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly options: NatgwReconcilerOptions = {}) {
    this.drivers = options.drivers ?? hostDrivers(options)
    this.log = options.logger ?? silentLogger
  }

  /** The snapshot last applied (after load()), undefined when none. */
  get applied(): NatgwSnapshot | undefined {
    return this.last
  }

  /** Reads the state file once (a missing or unreadable file means "nothing known"). */
  async load(): Promise<NatgwSnapshot | undefined> {
    if (this.loaded) return this.last
    this.loaded = true
    if (!this.options.stateFile) return this.last
    try {
      const body = JSON.parse(await readFile(this.options.stateFile, 'utf8')) as StateFileBody
      if (body.version === 1 && body.applied?.group) this.last = body.applied
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({file: this.options.stateFile, error: String(e)}, 'ignoring unreadable NAT gateway state file')
    }
    return this.last
  }

  private async save(): Promise<void> {
    const file = this.options.stateFile
    if (!file) return
    if (this.last === undefined) {
      await rm(file, {force: true})
      return
    }
    await mkdir(path.dirname(file), {recursive: true})
    const tmp = `${file}.tmp`
    await writeFile(tmp, JSON.stringify({version: 1, applied: this.last} satisfies StateFileBody) + '\n')
    await rename(tmp, file)
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** startup event: arp_announce = 2. */
  startup(): Promise<ExecuteResult> {
    return this.serial(() => executeHostOps(planNatgwStartup(), this.drivers, this.log))
  }

  /**
   * ipreallocated: apply `desired` (from natgwDesired) if the config or the leader changed since
   * the last applied snapshot. The snapshot is recorded even when some commands failed (as CTDB).
   */
  ipreallocated(desired: NatgwSnapshot): Promise<NatgwApplyResult> {
    return this.serial(async () => {
      const old = await this.load()
      const plan = planNatgw(old, desired)
      for (const m of plan.messages) this.log.info({group: desired.group.name}, m)
      if (!plan.changed) return {plan, results: [], failures: []}
      this.log.info(
        {group: desired.group.name, role: desired.role, leader: desired.leaderAddress, configChanged: plan.configChanged, leaderChanged: plan.leaderChanged},
        `NAT gateway ${desired.group.name}: setting up as ${desired.role}`,
      )
      const result = await executeHostOps(plan.ops, this.drivers, this.log)
      this.last = desired
      await this.save()
      return {plan, ...result}
    })
  }

  /**
   * shutdown / removenatgw (also: the group was removed from the config or this node left it):
   * clear with the last applied values, else with `current`. Unlike CTDB the record is forgotten,
   * so the next ipreallocated sets everything up again.
   */
  shutdown(current?: NatgwGroup): Promise<ExecuteResult> {
    return this.serial(async () => {
      const old = await this.load()
      const result = await executeHostOps(planNatgwShutdown(old, current), this.drivers, this.log)
      this.last = undefined
      await this.save()
      return result
    })
  }
}
