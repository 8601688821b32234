// Node-local settings, not part of the cluster file: which node this is, where its data and
// socket live. From daemon flags, else /etc/ctdbctl/node.yaml (or --node-config FILE).
import {readFileSync} from 'node:fs'
import {parse} from 'yaml'

export const DEFAULT_NODE_CONFIG = '/etc/ctdbctl/node.yaml'

export interface NodeSettings {
  config?: string
  node?: string
  dataDir?: string
  socket?: string
  /** Client socket mode (octal, default 0660), owner and group (names or numbers). */
  socketMode?: string
  socketOwner?: string
  socketGroup?: string
  natsServer?: string
  /** This node's NATS credentials (nkey seed or .creds file); the contents are never logged. */
  natsCredentials?: string
  /** HOST:PORT for the Prometheus endpoint (`--metrics-listen`). */
  metricsListen?: string
  ipDriver?: string
  logLevel?: string
}

const KEYS: (keyof NodeSettings)[] = ['config', 'node', 'dataDir', 'socket', 'socketMode', 'socketOwner', 'socketGroup', 'natsServer', 'natsCredentials', 'metricsListen', 'ipDriver', 'logLevel']

/** Reads a node.yaml; a missing default file is fine, a missing explicit one is an error. */
export function readNodeSettings(file: string, explicit: boolean): NodeSettings {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if (!explicit && (e as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new Error(`cannot read node settings ${file}: ${(e as Error).message}`)
  }
  let data: unknown
  try {
    data = parse(text)
  } catch (e) {
    throw new Error(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`)
  }
  if (data === null || data === undefined) return {}
  if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`${file}: expected a mapping with keys ${KEYS.join(', ')}`)
  const out: NodeSettings = {}
  for (const [k, v] of Object.entries(data)) {
    if (!KEYS.includes(k as keyof NodeSettings)) throw new Error(`${file}: unknown key "${k}"; allowed keys are ${KEYS.join(', ')}`)
    if (typeof v !== 'string') throw new Error(`${file}: "${k}" must be a string`)
    out[k as keyof NodeSettings] = v
  }
  return out
}
