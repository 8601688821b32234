import {Command, Flags} from '@oclif/core'

export default class DevDown extends Command {
  static override description = 'Stop a sandbox started by `dev up` (its processes, by pid) and remove what it created.'

  static override flags = {
    dir: Flags.string({summary: 'Directory of the sandbox.', default: '.ctdbctl-dev', helpValue: 'DIR'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DevDown)
    const {sandboxDown} = await import('../../dev/sandbox.js')
    const result = await sandboxDown(flags.dir)
    if (!result) this.error(`no sandbox in ${flags.dir} (no dev.json there)`, {exit: 1})
    this.log(`Sandbox in ${flags.dir} stopped (${result.stopped} processes) and removed.`)
  }
}
