import {Command, Flags} from '@oclif/core'
import {findDrift} from '../client/convergence.js'
import {openStore} from '../cli/config-store-access.js'
import {liveFlags, withCluster} from '../cli/live.js'

export default class Drift extends Command {
  static override description = 'Report nodes whose state differs from the applied revision. Exit 0 none, 2 drift (for monitoring), 1 error.'

  static override flags = {...liveFlags, json: Flags.boolean({summary: 'Print {revision, drift: [{pnn, name, problem}]}.'})}

  async run(): Promise<void> {
    const {flags} = await this.parse(Drift)
    const {revision, drift} = await withCluster(this, flags, async (client) => {
      const current = await (await openStore(client)).current()
      const state = await client.status()
      const rev = current?.revision ?? 0
      return {revision: rev, drift: findDrift(state, rev)}
    })
    if (flags.json) this.log(JSON.stringify({revision, drift}, null, 2))
    else if (drift.length === 0) this.log(`No drift: every node runs revision ${revision} and matches it.`)
    else for (const d of drift) this.log(`${d.name} (pnn ${d.pnn}): ${d.problem}`)
    process.exitCode = drift.length > 0 ? 2 : 0
  }
}
