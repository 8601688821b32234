// What a node offers its local clients: the client socket and messaging, started together by
// the daemon once it is connected to NATS.
import {statSync} from 'node:fs'
import {dirname, join} from 'node:path'
import type {Logger} from 'pino'
import type {NatsConnection} from '@nats-io/transport-node'
import type {DatabaseApi} from '../../db/api.js'
import {MessagingService, type NodeView} from '../../messaging/service.js'
import {groupId, userId} from './accounts.js'
import {ClientSocketServer} from './server.js'

export const SOCKET_FILE = 'ctdbd.socket'

/** Node settings of the socket (flags or node.yaml); owner and group are names or numbers. */
export interface SocketSettings {
  path?: string
  /** Octal string such as "0660". */
  mode?: string
  owner?: string
  group?: string
}

export interface ClientSurfaceOptions {
  nc: NatsConnection
  cluster: string
  pnn: number
  dataDir: string
  nodes: () => NodeView[]
  socket?: SocketSettings
  db?: DatabaseApi
  log: Logger
  onDbRequest?: (db: string, op: string, ok: boolean) => void
}

export interface ClientSurface {
  server: ClientSocketServer
  messaging: MessagingService
  stop(): Promise<void>
}

export function parseMode(mode: string | undefined): number {
  if (mode === undefined) return 0o660
  if (!/^0?[0-7]{3}$/.test(mode)) throw new Error(`socket mode "${mode}" is not an octal mode such as 0660`)
  return parseInt(mode, 8)
}

export async function startClientSurface(o: ClientSurfaceOptions): Promise<ClientSurface> {
  const s = o.socket ?? {}
  const path = s.path ?? join(o.dataDir, SOCKET_FILE)
  const messaging = new MessagingService({nc: o.nc, cluster: o.cluster, pnn: o.pnn, nodes: o.nodes, log: o.log})
  const server = new ClientSocketServer({
    path,
    mode: parseMode(s.mode),
    ...(s.owner ? {uid: userId(s.owner)} : {}),
    ...(s.group ? {gid: groupId(s.group)} : {}),
    pnn: o.pnn,
    messaging,
    ...(o.db ? {db: o.db} : {}),
    ...(o.onDbRequest ? {onDbRequest: o.onDbRequest} : {}),
    log: o.log,
  })
  messaging.start()
  try {
    if (s.group && (statSync(dirname(path)).mode & 0o010) === 0) o.log.warn({path}, 'the socket\'s directory is not searchable by its group: group members cannot reach the socket')
    await server.start()
  } catch (e) {
    messaging.stop()
    throw e
  }
  return {
    server,
    messaging,
    stop: async () => {
      await server.stop()
      messaging.stop()
    },
  }
}
