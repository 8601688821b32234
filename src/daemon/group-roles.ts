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

  async ipreallocated(config: ClusterConfig, state: ClusterState): Promise<void> {
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
    for (const rec of this.natgw.values()) await rec.shutdown()
    for (const {rec, group} of this.lvs.values()) {
      await rec.shutdown(group)
      await rec.settled()
    }
    this.natgw.clear()
    this.lvs.clear()
  }
}
