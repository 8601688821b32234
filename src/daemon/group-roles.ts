// NAT gateway and LVS on this node: after every takeover run (ipreallocated), each group this
// node belongs to is reconciled from the config and the node flags alone (helpers-spec §1, §2).
// Only with the real host driver: the fake one never touches the host.
import {join} from 'node:path'
import type {Logger} from 'pino'
import type {ClusterState} from '../cluster/state.js'
import type {ClusterConfig} from '../config/model.js'
import {lvsDesired, lvsIsMember, LvsReconciler} from '../reconciler/lvs/index.js'
import {natgwDesired, natgwIsMember, NatgwReconciler} from '../reconciler/natgw/index.js'

export class GroupRoles {
  private readonly natgw = new Map<string, NatgwReconciler>()
  private readonly lvs = new Map<string, {rec: LvsReconciler; group: ClusterConfig['lvs'][number]}>()
  private readonly log: Logger

  constructor(
    private readonly options: {dataDir: string; pnn: number; logger: Logger},
  ) {
    this.log = options.logger.child({component: 'groups'})
  }

  private queue: Promise<void> = Promise.resolve()
  private natgwKey = ''

  /** After a takeover run: NAT gateway and LVS. Calls are serialised. */
  ipreallocated(config: ClusterConfig, state: ClusterState): Promise<void> {
    this.natgwKey = this.keyOf(config, state)
    return this.serialised(async () => {
      await this.reconcileNatgw(config, state)
      await this.reconcileLvs(config, state)
    })
  }

  /**
   * Between takeover runs: when this node's own view of a NAT gateway's leader changes (a node it
   * had not heard of yet connects, say), follow it — cheap, and a no-op when nothing changed.
   * LVS is left to takeover runs: every LVS reconfiguration resets its connections, as in CTDB.
   */
  refreshNatgw(config: ClusterConfig, state: ClusterState): void {
    const key = this.keyOf(config, state)
    if (key === this.natgwKey) return
    this.natgwKey = key
    void this.serialised(() => this.reconcileNatgw(config, state))
  }

  private keyOf(config: ClusterConfig, state: ClusterState): string {
    return JSON.stringify(config.natgw.filter((g) => natgwIsMember(g, this.options.pnn)).map((g) => [g.name, natgwDesired(g, config.nodes, state, this.options.pnn)]))
  }

  private serialised(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn).catch((e: Error) => this.log.error({err: e}, 'NAT gateway / LVS reconciliation failed'))
    this.queue = next
    return next
  }

  private async reconcileNatgw(config: ClusterConfig, state: ClusterState): Promise<void> {
    const {pnn} = this.options
    const natgwGroups = config.natgw.filter((g) => natgwIsMember(g, pnn))
    for (const [name, rec] of this.natgw) {
      if (!natgwGroups.some((g) => g.name === name)) {
        await rec.shutdown()
        this.natgw.delete(name)
      }
    }
    for (const group of natgwGroups) {
      let rec = this.natgw.get(group.name)
      if (!rec) {
        rec = new NatgwReconciler({stateFile: join(this.options.dataDir, `natgw-${group.name}.json`), logger: this.log})
        await rec.startup()
        this.natgw.set(group.name, rec)
      }
      const desired = natgwDesired(group, config.nodes, state, pnn)
      if (!desired.ok) this.log.warn({group: group.name}, desired.message)
      else await rec.ipreallocated(desired.snapshot)
    }
  }

  private async reconcileLvs(config: ClusterConfig, state: ClusterState): Promise<void> {
    const {pnn} = this.options
    const lvsGroups = config.lvs.filter((g) => lvsIsMember(g, pnn))
    for (const [name, {rec, group}] of this.lvs) {
      if (!lvsGroups.some((g) => g.name === name)) {
        await rec.shutdown(group)
        this.lvs.delete(name)
      }
    }
    for (const group of lvsGroups) {
      let entry = this.lvs.get(group.name)
      if (!entry) {
        entry = {rec: new LvsReconciler({logger: this.log}), group}
        await entry.rec.startup(group)
        this.lvs.set(group.name, entry)
      }
      entry.group = group
      await entry.rec.ipreallocated(lvsDesired(group, config.nodes, state, pnn))
    }
  }

  async shutdown(): Promise<void> {
    await this.queue
    for (const rec of this.natgw.values()) await rec.shutdown()
    for (const {rec, group} of this.lvs.values()) {
      await rec.shutdown(group)
      await rec.settled()
    }
    this.natgw.clear()
    this.lvs.clear()
  }
}
