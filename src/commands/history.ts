import {Command, Flags} from '@oclif/core'
import {openStore} from '../cli/config-store-access.js'
import {liveFlags, withCluster} from '../cli/live.js'

export default class History extends Command {
  static override description = 'List every applied revision of the cluster config: who, when, why and what changed.'

  static override flags = {...liveFlags, json: Flags.boolean({summary: 'Print the revisions as JSON (without the YAML).'})}

  async run(): Promise<void> {
    const {flags} = await this.parse(History)
    const revisions = await withCluster(this, flags, async (client) => (await openStore(client)).history())
    if (flags.json) {
      this.log(JSON.stringify(revisions.map(({yaml: _y, ...r}) => r), null, 2))
      return
    }
    if (revisions.length === 0) {
      this.log('No revision applied yet.')
      return
    }
    const rows = revisions.map((r) => [String(r.revision), r.time.replace(/\.\d+Z$/, 'Z'), r.author, r.sha256.slice(0, 12), [r.summary, r.message].filter(Boolean).join(' — ')])
    const head = ['REV', 'TIME', 'AUTHOR', 'SHA256', 'SUMMARY']
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
    for (const row of [head, ...rows]) this.log(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  '))
  }
}
