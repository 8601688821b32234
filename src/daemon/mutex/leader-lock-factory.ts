// Builds the daemon's LeaderLock from the cluster file's clusterLock: a LockKeeper running the
// configured mutex helper (ours for nats-kv and fcntl, any CTDB helper for `helper`).
import type {Logger} from 'pino'
import type {ClusterConfig} from '../../config/model.js'
import type {LeaderLock} from '../leader-lock.js'
import {helperEnvironment} from '../../security/helper-env.js'
import {lockKeeperFor} from './cluster-mutex.js'

export interface LeaderLockContext {
  config: ClusterConfig
  pnn: number
  cliPath: string
  logger: Logger
  onChange: () => void
  /** This node's own NATS server, tried first by the nats-kv helper. */
  natsServer?: string
  /** This node's credentials file (node.yaml / --nats-creds), else the cluster file's. */
  natsCredentials?: string
}

export function createLeaderLock(ctx: LeaderLockContext): LeaderLock | undefined {
  const {config, logger} = ctx
  if (config.clusterLock.type === 'none') {
    logger.warn('no cluster lock configured: leader election without a lock is unsafe under network partitions')
    return undefined
  }
  const log = logger.child({component: 'cluster-lock', lock: config.clusterLock.type})
  const keeper = lockKeeperFor(
    config.clusterLock,
    {cliPath: ctx.cliPath, natsServers: ctx.natsServer ? [ctx.natsServer, ...config.nats.servers.filter((s) => s !== ctx.natsServer)] : config.nats.servers, cluster: config.name, pnn: ctx.pnn, creds: ctx.natsCredentials ?? config.nats.credentials, tls: config.nats.tls},
    {log: (line, info) => log.warn({pid: info.pid, source: info.source}, line), env: helperEnvironment()},
  )!
  keeper.on('held', ({latencyMs}) => {
    log.info({latencyMs}, 'took the cluster lock')
    ctx.onChange()
  })
  keeper.on('lost', (info) => {
    log.warn({reason: info.reason}, 'cluster lock lost')
    ctx.onChange()
  })
  return keeper
}
