import {Command, Flags} from '@oclif/core'
import {fileURLToPath} from 'node:url'

export default class Daemon extends Command {
  static override description = 'Run the ctdbctl node daemon: membership, node flags and leader election under the cluster lock.'

  static override examples = [
    '<%= config.bin %> daemon --config /etc/ctdbctl/cluster.yaml --node fs1',
    '<%= config.bin %> daemon   # node, config, data dir from /etc/ctdbctl/node.yaml',
  ]

  static override flags = {
    config: Flags.string({char: 'c', summary: 'Cluster file (YAML).', env: 'CTDBCTL_CONFIG', helpValue: 'FILE'}),
    node: Flags.string({summary: 'Name of this node in the cluster file.', helpValue: 'NAME'}),
    'data-dir': Flags.string({summary: 'Directory for this node\'s state (default /var/lib/ctdbctl).', helpValue: 'DIR'}),
    'nats-server': Flags.string({summary: 'NATS server to use first, normally the one on this node (default: the order of the cluster file).', helpValue: 'URL'}),
    'ip-driver': Flags.string({summary: 'How public addresses reach the host: iproute2 (default as root) or fake (records only; for trying ctdbctl without root).', options: ['iproute2', 'fake']}),
    'nats-creds': Flags.string({summary: 'This node\'s NATS credentials: nkey seed or .creds file (default: "natsCredentials" in node.yaml, else the cluster file\'s).', helpValue: 'FILE'}),
    'metrics-listen': Flags.string({summary: 'Serve Prometheus metrics at http://HOST:PORT/metrics (default: "metricsListen" in node.yaml, else none).', helpValue: 'HOST:PORT'}),
    socket: Flags.string({summary: 'Local client socket (default <data-dir>/ctdbd.socket).', helpValue: 'PATH'}),
    'socket-mode': Flags.string({summary: 'Client socket mode, octal (default 0660).', helpValue: 'MODE'}),
    'socket-owner': Flags.string({summary: 'Owner of the client socket (user name or uid).', helpValue: 'USER'}),
    'socket-group': Flags.string({summary: 'Group of the client socket (group name or gid); its members may use the databases and messaging.', helpValue: 'GROUP'}),
    'node-config': Flags.string({summary: 'Node-local settings file (default /etc/ctdbctl/node.yaml).', helpValue: 'FILE'}),
    'log-level': Flags.string({summary: 'Log level.', options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], default: undefined}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Daemon)
    const {readNodeSettings, DEFAULT_NODE_CONFIG} = await import('../daemon/node-settings.js')
    const {loadConfigText, ConfigError, readSource} = await import('../config/index.js')
    const {default: pino} = await import('pino')
    const {NodeDaemon} = await import('../daemon/daemon.js')
    const {createLeaderLock} = await import('../daemon/mutex/leader-lock-factory.js')

    let settings
    try {
      settings = readNodeSettings(flags['node-config'] ?? DEFAULT_NODE_CONFIG, flags['node-config'] !== undefined)
    } catch (e) {
      this.error((e as Error).message, {exit: 2})
    }
    const configFile = flags.config ?? settings.config
    const nodeName = flags.node ?? settings.node
    if (!configFile) this.error('no cluster file: give --config FILE (or CTDBCTL_CONFIG, or "config" in node.yaml)', {exit: 2})
    if (!nodeName) this.error('which node is this? give --node NAME (or "node" in node.yaml)', {exit: 2})
    let configText: string
    try {
      configText = await readSource(configFile)
    } catch (e) {
      this.error(`cannot read ${configFile}: ${(e as Error).message}`, {exit: 2})
    }
    const loaded = loadConfigText(configText, configFile, {localChecks: false})
    if (!loaded.config) {
      process.stderr.write(`${new ConfigError(loaded).message}\n`)
      return this.exit(1)
    }
    const natsCredentials = flags['nats-creds'] ?? settings.natsCredentials
    const config = natsCredentials ? {...loaded.config, nats: {...loaded.config.nats, credentials: natsCredentials}} : loaded.config
    const level = flags['log-level'] ?? settings.logLevel ?? 'info'
    const self = config.nodes.find((n) => n.name === nodeName)
    let daemon: InstanceType<typeof NodeDaemon> | undefined
    const logger = pino({level, base: {cluster: config.name, node: nodeName, pnn: self?.pnn}, timestamp: pino.stdTimeFunctions.isoTime, mixin: () => daemon?.logContext() ?? {generation: 1, revision: 0}})
    const ipDriver = (flags['ip-driver'] ?? settings.ipDriver ?? (process.getuid?.() === 0 ? 'iproute2' : 'fake')) as 'iproute2' | 'fake'
    if (ipDriver === 'fake') logger.warn('public addresses use the fake driver: nothing is configured on this host')
    const cliPath = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
    try {
      daemon = new NodeDaemon({
        config,
        configText,
        nodeName,
        dataDir: flags['data-dir'] ?? settings.dataDir ?? '/var/lib/ctdbctl',
        logger,
        natsServer: flags['nats-server'] ?? settings.natsServer,
        ipDriver,
        socket: {
          path: flags.socket ?? settings.socket,
          mode: flags['socket-mode'] ?? settings.socketMode,
          owner: flags['socket-owner'] ?? settings.socketOwner,
          group: flags['socket-group'] ?? settings.socketGroup,
        },
        createLeaderLock: (current, onChange) => createLeaderLock({config: current, pnn: self!.pnn, cliPath, logger, onChange, natsServer: flags['nats-server'] ?? settings.natsServer, ...(natsCredentials ? {natsCredentials} : {})}),
      })
    } catch (e) {
      this.error((e as Error).message, {exit: 2})
    }
    let stopping = false
    const shutdown = (signal: string) => {
      if (stopping) return
      stopping = true
      logger.info({signal}, 'shutting down')
      daemon!.stop().then(
        () => process.exit(0),
        (e) => {
          logger.error({err: e}, 'unclean shutdown')
          process.exit(1)
        },
      )
    }
    // A stray rejection is a bug to log, not a reason to take a node out of the cluster.
    process.on('unhandledRejection', (reason) => logger.error({err: reason}, 'unhandled rejection'))
    process.on('SIGTERM', () => shutdown('SIGTERM'))
    process.on('SIGINT', () => shutdown('SIGINT'))
    const metricsListen = flags['metrics-listen'] ?? settings.metricsListen
    if (metricsListen) {
      const {startMetricsServer} = await import('../daemon/metrics-server.js')
      try {
        const {port} = await startMetricsServer(daemon.metrics.registry, metricsListen)
        logger.info({port}, 'serving metrics at /metrics')
      } catch (e) {
        this.error((e as Error).message, {exit: 2})
      }
    }
    await daemon.start()
  }
}
