import {Command, Flags} from '@oclif/core'

export default class CredsGenerate extends Command {
  static override summary = 'Write NATS identities for a cluster: an nkey seed per node, an operator seed, and the nats-server authorization include.'
  static override description = [
    'Nodes may publish only their own heartbeats, departures, node-to-node controls, replies and their buckets;',
    'config writes and node administration need the operator identity. Existing seeds are kept (a node added later',
    'gets a new one); --force replaces every seed. Seed files are mode 0600: copy each node\'s to that node only',
    '("natsCredentials" in its node.yaml) and give the operator seed to the CLI (--nats-creds or CTDBCTL_NATS_CREDS).',
  ].join(' ')

  static override examples = ['<%= config.bin %> creds generate --config cluster.yaml --out /etc/ctdbctl/creds']

  static override flags = {
    config: Flags.string({char: 'c', summary: 'Cluster file (YAML).', env: 'CTDBCTL_CONFIG', required: true, helpValue: 'FILE'}),
    out: Flags.string({summary: 'Directory for the seed files and the server include.', required: true, helpValue: 'DIR'}),
    force: Flags.boolean({summary: 'Replace existing seeds (every identity gets a new key).'}),
    'tls-cert': Flags.string({summary: 'Make the servers require TLS from clients and between servers (routes), with this certificate (same path on every server).', helpValue: 'FILE', dependsOn: ['tls-key']}),
    'tls-key': Flags.string({summary: 'The key of --tls-cert.', helpValue: 'FILE', dependsOn: ['tls-cert']}),
    'tls-ca': Flags.string({summary: 'Also require client certificates signed by this CA.', helpValue: 'FILE', dependsOn: ['tls-cert']}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(CredsGenerate)
    const {readConfig} = await import('../../config/index.js')
    const {generateCreds} = await import('../../security/creds.js')
    let config
    try {
      config = await readConfig(flags.config)
    } catch (e) {
      this.error((e as Error).message, {exit: 1})
    }
    let result
    try {
      const tls = flags['tls-cert'] && flags['tls-key'] ? {cert: flags['tls-cert'], key: flags['tls-key'], ...(flags['tls-ca'] ? {ca: flags['tls-ca']} : {})} : undefined
      result = generateCreds(config, flags.out, flags.force, tls)
    } catch (e) {
      this.error((e as Error).message, {exit: 1})
    }
    for (const id of result.identities) this.log(`${id.created ? 'created' : 'kept   '} ${id.seedFile}  ${id.name}${id.pnn === undefined ? '' : ` (pnn ${id.pnn})`}  ${id.publicKey}`)
    this.log(`wrote   ${result.serverConfigFile}  (include it in every nats-server config)`)
  }
}
