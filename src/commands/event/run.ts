import {Args, Command} from '@oclif/core'
import {nodeFlag, targetNodes} from '../../cli/event-control.js'
import {liveFlags, withCluster} from '../../cli/live.js'
import {checkEvent} from '../../events/model.js'
import {renderEvent} from '../../events/render.js'

/** Events time out on the node (eventScriptTimeout); this only bounds a lost reply. */
const RUN_REPLY_TIMEOUT_MS = 300_000

export default class EventRun extends Command {
  static override description = 'Run an event by hand on nodes, as `ctdb event run` (silent when it passes; exit 1 and the failing output when not).'

  static override examples = ['<%= config.bin %> event run monitor -n fs1', '<%= config.bin %> event run takeip eth0 192.168.1.10 24 -n 0']

  static override strict = false

  static override args = {
    event: Args.string({description: 'event name', required: true}),
  }

  static override flags = {
    ...liveFlags,
    node: nodeFlag,
  }

  async run(): Promise<void> {
    const {args, argv, flags} = await this.parse(EventRun)
    const eventArgs = (argv as string[]).slice(1)
    const why = checkEvent(args.event, eventArgs)
    if (why) this.error(why, {exit: 2})
    const failed = await withCluster(this, flags, async (client) => {
      let bad = false
      for (const n of await targetNodes(this, client, flags.node)) {
        const reply = await client.eventControl(n.pnn, {op: 'event-run', event: args.event, args: eventArgs}, RUN_REPLY_TIMEOUT_MS)
        const result = reply.events?.[0]
        if (result?.status === 'OK') continue
        bad = true
        process.stderr.write(`Event ${args.event} failed on node ${n.pnn} (${n.name}): ${result?.status ?? 'no result'}\n${renderEvent(result, args.event)}`)
      }
      return bad
    })
    if (failed) this.exit(1)
  }
}
