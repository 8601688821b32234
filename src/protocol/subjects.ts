// Every NATS subject and bucket of a cluster, in one place (documented in docs/protocol.md).
// All are prefixed with the cluster name, so several clusters can share NATS servers.

export function subjects(cluster: string) {
  const p = `ctdbctl.${cluster}`
  return {
    /** Each daemon publishes its heartbeat here every keepaliveInterval. */
    heartbeat: (pnn: number) => `${p}.heartbeat.${pnn}`,
    heartbeatAll: `${p}.heartbeat.*`,
    /** A daemon that shuts down cleanly announces it here. */
    departure: (pnn: number) => `${p}.departure.${pnn}`,
    departureAll: `${p}.departure.*`,
    /** Request/reply: an operator's admin control for one node (ban, disable, moveip, status…). */
    admin: (pnn: number) => `${p}.admin.${pnn}`,
    /**
     * Request/reply: a node-to-node control (takeover phases, culprit bans). The subject names
     * the sender; with authentication a node may publish only with its own pnn there.
     */
    control: (target: number, sender: number) => `${p}.control.${target}.from.${sender}`,
    controlTo: (target: number) => `${p}.control.${target}.from.*`,
    /** Request/reply, queue group: any daemon answers with its view of the cluster. */
    status: `${p}.status`,
    /** `apply` announces a new config revision here so daemons fetch it at once (the KV watch is the guarantee). */
    configApplied: `${p}.config.applied`,
    /** Request/reply: the database service of one node (src/db/transport.ts, framed JSON head + binary body). */
    db: (pnn: number) => `${p}.db.node.${pnn}`,
    /** Client messages (srvid + data) for the clients of one node; broadcasts go to each node's subject. */
    message: (pnn: number) => `${p}.msg.${pnn}`,
  }
}

/** The sender pnn of a node-to-node control subject, undefined if the subject is not one. */
export function controlSender(subject: string): number | undefined {
  const m = /\.control\.\d+\.from\.(\d+)$/.exec(subject)
  return m ? Number(m[1]) : undefined
}

export const STATUS_QUEUE = 'ctdbctl-status'

export function buckets(cluster: string) {
  return {
    /** The cluster lock lease of `ctdbctl mutex nats-kv`. */
    lock: `${cluster}_lock`,
  }
}
