import {Command, Flags} from '@oclif/core'

export default class DevStatus extends Command {
  static override description = 'Show the processes of a sandbox started by `dev up` and the cluster status.'

  static override flags = {
    dir: Flags.string({summary: 'Directory of the sandbox.', default: '.ctdbctl-dev', helpValue: 'DIR'}),
    json: Flags.boolean({summary: 'Print the sandbox description and processes as JSON.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DevStatus)
    const {readSandbox} = await import('../../dev/sandbox.js')
    const {alive} = await import('../../dev/nats-servers.js')
    const sandbox = readSandbox(flags.dir)
    if (!sandbox) this.error(`no sandbox in ${flags.dir} (no dev.json there)`, {exit: 1})
    const procs = [
      ...sandbox.nats.map((s) => ({kind: 'nats-server', name: s.name, pid: s.pid, running: alive(s.pid), detail: s.url})),
      ...sandbox.daemons.map((d) => ({kind: 'daemon', name: d.node, pid: d.pid, running: alive(d.pid), detail: d.log})),
    ]
    if (flags.json) {
      this.log(JSON.stringify({...sandbox, processes: procs}, null, 2))
    } else {
      this.log(`Sandbox "${sandbox.cluster}" in ${sandbox.dir} (config ${sandbox.configFile})`)
      for (const p of procs) this.log(`  ${p.kind.padEnd(11)} ${p.name.padEnd(14)} pid ${String(p.pid).padEnd(8)} ${p.running ? 'running' : 'NOT RUNNING'}  ${p.detail}`)
    }
    process.exitCode = procs.every((p) => p.running) ? 0 : 1
  }
}
