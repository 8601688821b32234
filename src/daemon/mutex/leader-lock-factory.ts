// Builds the daemon's LeaderLock from the cluster file's clusterLock.
import type {Logger} from 'pino'
import type {ClusterConfig} from '../../config/model.js'
import type {LeaderLock} from '../leader-lock.js'

export interface LeaderLockContext {
  config: ClusterConfig
  pnn: number
  cliPath: string
  logger: Logger
  onChange: () => void
}

export function createLeaderLock(ctx: LeaderLockContext): LeaderLock | undefined {
  if (ctx.config.clusterLock.type === 'none') {
    ctx.logger.warn('no cluster lock configured: leader election without a lock is unsafe under network partitions')
    return undefined
  }
  throw new Error(`cluster lock type ${ctx.config.clusterLock.type} is not wired yet`)
}
