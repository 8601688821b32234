// Where the local daemon's client socket is: --socket, else $CTDBCTL_SOCKET, else the node
// settings (socket, or dataDir/ctdbd.socket), else the default data directory's socket.
import {join} from 'node:path'
import {SOCKET_FILE} from '../daemon/client-socket/surface.js'
import {DEFAULT_NODE_CONFIG, readNodeSettings} from '../daemon/node-settings.js'

export const DEFAULT_SOCKET = join('/var/lib/ctdbctl', SOCKET_FILE)

export function resolveSocketPath(explicit?: string, nodeConfig = DEFAULT_NODE_CONFIG): string {
  if (explicit) return explicit
  const env = process.env.CTDBCTL_SOCKET
  if (env) return env
  const settings = readNodeSettings(nodeConfig, nodeConfig !== DEFAULT_NODE_CONFIG)
  if (settings.socket) return settings.socket
  if (settings.dataDir) return join(settings.dataDir, SOCKET_FILE)
  return DEFAULT_SOCKET
}
