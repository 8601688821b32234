// The daemon's NATS connection: every configured server, credentials and TLS from the config,
// reconnection forever with a short, jittered wait, and status changes logged.
import {connect, type NatsConnection} from '@nats-io/transport-node'
import type {Logger} from 'pino'
import type {NatsSettings} from '../config/model.js'
import {natsConnectionOptions} from '../protocol/connection.js'

/**
 * Connects with the node's own server first (`preferred`, normally the nats-server running on
 * this node) and fails over to the others in the order of the cluster file.
 */
export async function connectNats(config: {nats: NatsSettings}, name: string, log: Logger, preferred?: string): Promise<NatsConnection> {
  const servers = preferred ? [preferred, ...config.nats.servers.filter((s) => s !== preferred)] : config.nats.servers
  const nc = await connect({
    ...natsConnectionOptions({...config.nats, servers}, name),
    noRandomize: preferred !== undefined,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    timeout: 2000,
    pingInterval: 2000,
    maxPingOut: 2,
  })
  log.info({server: nc.getServer()}, 'connected to NATS')
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') log.warn({server: s.server}, 'disconnected from NATS')
      else if (s.type === 'reconnect') log.info({server: s.server}, 'reconnected to NATS')
      else if (s.type === 'error') log.error({err: s.error}, 'NATS error')
    }
  })()
  return nc
}
