import {Args, Command, Flags} from '@oclif/core'
import {nodeFlag, targetNodes} from '../../cli/event-control.js'
import {liveFlags, withCluster} from '../../cli/live.js'
import {renderEvent} from '../../events/render.js'

export default class EventStatus extends Command {
  static override description = 'Last result of an event on nodes, per script and service with duration and output, as `ctdb event status` (exit 1 when it failed).'

  static override examples = ['<%= config.bin %> event status', '<%= config.bin %> event status takeip -n fs1']

  static override args = {
    event: Args.string({description: 'event name', default: 'monitor'}),
  }

  static override flags = {
    ...liveFlags,
    node: nodeFlag,
    json: Flags.boolean({summary: 'Print the results as JSON.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(EventStatus)
    const failed = await withCluster(this, flags, async (client) => {
      const nodes = await targetNodes(this, client, flags.node)
      const out: Record<string, unknown>[] = []
      let bad = false
      for (const n of nodes) {
        const reply = await client.eventControl(n.pnn, {op: 'event-status', event: args.event})
        const result = reply.events?.[0]
        if (result && result.status !== 'OK') bad = true
        if (flags.json) out.push({pnn: n.pnn, node: n.name, result: result ?? null})
        else process.stdout.write(`${nodes.length > 1 || flags.node === undefined ? `Node ${n.pnn} (${n.name}):\n` : ''}${renderEvent(result, args.event)}`)
      }
      if (flags.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n')
      return bad
    })
    if (failed) this.exit(1)
  }
}
