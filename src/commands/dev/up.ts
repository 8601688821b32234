import {Command, Flags} from '@oclif/core'

export default class DevUp extends Command {
  static override description = 'Start a local sandbox cluster: an N-server NATS cluster with JetStream and N daemons on loopback.'

  static override examples = ['<%= config.bin %> dev up --nodes 3', '<%= config.bin %> dev up --nodes 3 --dir /tmp/ctdbctl-dev']

  static override flags = {
    nodes: Flags.integer({summary: 'Number of nodes.', default: 3, min: 1, max: 16}),
    dir: Flags.string({summary: 'Directory for the sandbox (config, data, logs).', default: '.ctdbctl-dev', helpValue: 'DIR'}),
    name: Flags.string({summary: 'Cluster name.', default: 'dev'}),
    auth: Flags.boolean({summary: 'NATS with nkey authentication and per-node permissions (seeds in DIR/creds); --no-auth for an open NATS.', default: true, allowNo: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DevUp)
    const {sandboxNats, sandboxUp} = await import('../../dev/sandbox.js')
    let sandbox
    try {
      sandbox = await sandboxUp({nodes: flags.nodes, dir: flags.dir, name: flags.name, auth: flags.auth})
    } catch (e) {
      this.error((e as Error).message, {exit: 1})
    }
    const {waitForCluster} = await import('../../dev/wait.js')
    const state = await waitForCluster(sandbox, 20_000).catch((e: Error) => this.error(`${e.message}; see the logs in ${sandbox.dir}/n*/daemon.log`, {exit: 1}))
    this.log(`Sandbox cluster "${sandbox.cluster}" is up: ${sandbox.daemons.length} nodes, leader ${state.leader}.`)
    this.log(`  config:  ${sandbox.configFile}`)
    this.log(`  NATS:    ${sandbox.nats.map((s) => s.url).join(', ')}`)
    this.log(`  logs:    ${sandbox.dir}/n*/daemon.log`)
    this.log('Point the CLI at it with:')
    this.log(`  export CTDBCTL_CONFIG=${sandbox.configFile}`)
    if (sandbox.credsDir) this.log(`  export CTDBCTL_NATS_CREDS=${sandboxNats(sandbox).credentials}`)
    this.log('  ctdbctl status')
    this.log(`Stop it with: ctdbctl dev down --dir ${flags.dir}`)
  }
}
