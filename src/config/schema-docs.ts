// Renders docs/config.md from the schema, so the reference documents every field and cannot
// drift from what the validator enforces (a test compares the committed file with this output).

type Schema = Record<string, unknown> & {
  description?: string
  type?: string | string[]
  properties?: Record<string, Schema>
  items?: Schema
  required?: string[]
  enum?: unknown[]
  const?: unknown
  default?: unknown
  format?: string
  minimum?: number
  maximum?: number
  minItems?: number
  $ref?: string
}

export function renderConfigReference(root: Schema): string {
  const defs = (root.$defs ?? {}) as Record<string, Schema>
  const resolve = (s: Schema): Schema => (s.$ref ? {...defs[s.$ref.replace('#/$defs/', '')], ...s, $ref: undefined} : s)
  const typeText = (s: Schema): string => {
    if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``
    if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ')
    const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
    const names = types.map((t) => {
      if (t === 'array') return `list${s.items ? ` of ${typeText(resolve(s.items)).replace(/^list of /, '')}` : ''}`
      if (t === 'object') return 'mapping'
      if (t === 'string' && s.format) return `string (${s.format})`
      return t
    })
    let text = names.join(' or ') || 'mapping'
    if (s.minimum !== undefined || s.maximum !== undefined) text += ` ${s.minimum ?? ''}…${s.maximum ?? ''}`
    if (s.minItems) text += `, at least ${s.minItems}`
    return text
  }
  const rows: string[] = []
  const walk = (s: Schema, path: string, required: boolean) => {
    s = resolve(s)
    if (path !== '') rows.push(`| \`${path}\` | ${typeText(s)} | ${required ? 'yes' : 'no'} | ${defaultText(s)} | ${(s.description ?? '').replace(/\|/g, '\\|')} |`)
    const children = (of: Schema, prefix: string) => {
      for (const [key, child] of Object.entries(of.properties ?? {})) walk(child, prefix === '' ? key : `${prefix}.${key}`, (of.required ?? []).includes(key))
    }
    children(s, path)
    if (s.items) children(resolve(s.items), `${path}[]`)
  }
  const lines = [
    '# Cluster file reference (`ctdbctl/v1`)',
    '',
    '<!-- Generated from schemas/cluster.schema.json by `npm run docs`; do not edit by hand. -->',
    '',
    root.description ?? '',
    '',
    'One YAML document per cluster. Add `# yaml-language-server: $schema=PATH/schemas/cluster.schema.json` as the first line for completion and checks in editors. Unknown keys are errors. Durations are a whole number followed by `ms`, `s`, `m` or `h`. Nodes are referred to by `name` everywhere else in the file. `[]` marks the items of a list.',
    '',
    '| key | type | required | default | description |',
    '|---|---|---|---|---|',
  ]
  walk(root, '', true)
  lines.push(...rows)
  lines.push('', '## Rules beyond the schema', '', 'Checked by `ctdbctl validate` after the schema; each problem names its rule id in `--json` output:', '')
  lines.push(...SEMANTIC_RULES.map(([id, text]) => `- \`${id}\`: ${text}`))
  return lines.join('\n') + '\n'
}

function defaultText(s: Schema): string {
  if (s.default === undefined) return ''
  if (typeof s.default === 'object' && s.default !== null && Object.keys(s.default).length === 0) return ''
  return `\`${typeof s.default === 'string' ? s.default : JSON.stringify(s.default)}\``
}

/** Rule ids of src/config/semantic.ts with their meaning (a test checks the list is complete). */
export const SEMANTIC_RULES: [string, string][] = [
  ['nodes.unique-pnn', 'every node, deleted ones included, has its own pnn'],
  ['nodes.unique-name', 'node names, deleted ones included, are unique'],
  ['nodes.unique-address', 'active nodes have distinct addresses'],
  ['nodes.no-leader', 'at least one node that is not deleted has the leader capability'],
  ['refs.unknown-node', 'node references name a node of the file'],
  ['refs.deleted-node', 'node references do not name a deleted node'],
  ['refs.duplicate-node', 'a node appears at most once per list'],
  ['addresses.duplicate', 'each public address is declared once'],
  ['addresses.network-address', 'a public address is a host address, not a network address'],
  ['addresses.node-address', 'a public address is not a node address'],
  ['addresses.group-address', 'a public address is not a natgw or lvs address'],
  ['addresses.duplicate-interface', 'an interface appears at most once per address'],
  ['natgw.unique-name', 'natgw group names are unique'],
  ['natgw.address-conflict', 'a natgw address is not used by another group or node'],
  ['natgw.ipv4-only', 'natgw addresses, networks, gateway and routes are IPv4'],
  ['natgw.private-network', 'the private network contains the address of every member'],
  ['natgw.no-leader-candidate', 'a natgw group has a member that is not follower-only'],
  ['lvs.unique-name', 'lvs group names are unique'],
  ['lvs.address-conflict', 'an lvs address is not used by another group or node'],
  ['lvs.no-leader-candidate', 'an lvs group has a member that is not follower-only'],
  ['lock.field-for-type', 'cluster lock fields match its type (path, recheckInterval: fcntl; command: helper; ttl: nats-kv)'],
  ['lock.fcntl-path', 'an fcntl lock has a path'],
  ['lock.helper-command', 'a helper lock has a command whose program is an absolute path and not a shell'],
  ['lock.ttl-range', 'the nats-kv lease ttl is between 1s and 1m'],
  ['lock.recheck-range', 'the fcntl recheck interval is between 1s and 1h'],
  ['databases.unique-name', 'database names are unique'],
  ['services.unique-name', 'service names are unique'],
  ['services.empty', 'a service has a monitor, start/stop commands or an nfsCallout'],
  ['services.command', 'service commands are absolute program paths and not `sh -c` strings'],
  ['services.monitor-interval', 'a monitor interval is at least 1s'],
  ['services.monitor-timeout', 'a monitor timeout does not exceed its interval'],
  ['tunables.range', 'each duration tunable is within its range'],
  ['tunables.recovery-timeout', 'recoveryTimeout exceeds keepaliveInterval × keepaliveLimit'],
  ['nats.duplicate-server', 'each NATS server is listed once'],
  ['nats.tls-pair', 'a TLS client certificate comes with its key'],
  ['local.missing-path', '(warning) a program or directory named in the file does not exist on this machine'],
]
