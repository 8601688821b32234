import {Command} from '@oclif/core'
import {scriptArgs, scriptFlags, setScript} from '../../../cli/event-script.js'

export default class EventScriptEnable extends Command {
  static override description = 'Enable an event script on nodes (owner-executable: it runs from the next event on), as `ctdb event script enable`.'

  static override examples = ['<%= config.bin %> event script enable 50.samba -n fs1']

  static override args = scriptArgs

  static override flags = scriptFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(EventScriptEnable)
    await setScript(this, flags, args.name, true)
  }
}
