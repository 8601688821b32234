import {Command} from '@oclif/core'
import {scriptArgs, scriptFlags, setScript} from '../../../cli/event-script.js'

export default class EventScriptDisable extends Command {
  static override description = 'Disable an event script on nodes (not executable: reported DISABLED and skipped), as `ctdb event script disable`.'

  static override examples = ['<%= config.bin %> event script disable 50.samba -n fs1']

  static override args = scriptArgs

  static override flags = scriptFlags

  async run(): Promise<void> {
    const {args, flags} = await this.parse(EventScriptDisable)
    await setScript(this, flags, args.name, false)
  }
}
