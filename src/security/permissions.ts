// Who may publish and subscribe to what on a cluster's NATS servers: the permission table that
// `ctdbctl creds generate` turns into the nats-server authorization block. Pure data; the
// server enforces it, so a subject naming a sender proves who sent it (docs/protocol.md).
//
// To give nodes a new subject or bucket, add one row to NODE_SUBJECTS or NODE_BUCKETS.

/** Subjects (after `ctdbctl.<cluster>.`) a node may publish; `{pnn}` is the node's own pnn. */
export const NODE_SUBJECTS = [
  'heartbeat.{pnn}',
  'departure.{pnn}',
  // Node-to-node controls (takeover phases, culprit bans) name their sender.
  'control.*.from.{pnn}',
  'msg.>',
  'db.>',
]

export type BucketAccess = 'read' | 'write'

/** JetStream KV buckets (`<cluster>_<suffix>`) and what nodes may do with them. */
export const NODE_BUCKETS: {suffix: string; access: BucketAccess}[] = [
  // The applied config: nodes follow it, only an operator writes it.
  {suffix: 'config', access: 'read'},
  // The cluster lock lease (`ctdbctl mutex nats-kv`).
  {suffix: 'lock', access: 'write'},
  {suffix: 'tickles', access: 'write'},
]

export interface Permissions {
  publish: {allow: string[]; deny?: string[]}
  subscribe: {allow: string[]}
  allow_responses: boolean
}

function bucketApi(stream: string, access: BucketAccess, bucket: string): string[] {
  const read = [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.ACK.${stream}.>`,
  ]
  if (access === 'read') return read
  return [...read, `$KV.${bucket}.>`, `$JS.API.STREAM.CREATE.${stream}`, `$JS.API.STREAM.UPDATE.${stream}`, `$JS.API.STREAM.LEADER.STEPDOWN.${stream}`]
}

/** The permissions of node `pnn` of `cluster`. */
export function nodePermissions(cluster: string, pnn: number): Permissions {
  const p = `ctdbctl.${cluster}`
  const buckets = NODE_BUCKETS.flatMap((b) => bucketApi(`KV_${cluster}_${b.suffix}`, b.access, `${cluster}_${b.suffix}`))
  return {
    publish: {
      allow: [...NODE_SUBJECTS.map((s) => `${p}.${s.replaceAll('{pnn}', String(pnn))}`), '$JS.API.INFO', '$JS.FC.>', ...buckets],
      // Explicit, so that a later allow row can never open the config bucket to nodes.
      deny: [`$KV.${cluster}_config.>`, ...['CREATE', 'UPDATE', 'DELETE', 'PURGE', 'MSG.DELETE'].map((op) => `$JS.API.STREAM.${op}.KV_${cluster}_config`)],
    },
    subscribe: {allow: [`${p}.>`, '_INBOX.>']},
    allow_responses: true,
  }
}

/** The operator (CLI) may do everything: apply config, administer nodes, manage streams. */
export function operatorPermissions(): Permissions {
  return {publish: {allow: ['>']}, subscribe: {allow: ['>']}, allow_responses: true}
}
