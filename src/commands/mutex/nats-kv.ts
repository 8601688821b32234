// `ctdbctl mutex nats-kv`: the default cluster lock, a lease in a replicated JetStream KV bucket,
// exposed as a CTDB cluster mutex helper (status character on stdout, SIGTERM releases).
//
// ALGORITHM
// Bucket `<cluster>_lock` (created if missing with replicas = min(3, servers in the NATS
// cluster), history 1, reads from the stream leader), key `leader`. The value is JSON
// {holder, token, ttlMs, host, pid}; `token` is random per helper process. Every change is a
// compare-and-set on the key's revision ("expected last subject sequence"), checked by the
// stream leader and committed by a quorum of the R3 stream, and carries the message id
// `leader-after-<expected revision>`: clustered nats-server 2.9 lets concurrent writes that
// expect the same revision *all* through, its duplicate detection lets only one (see
// src/protocol/kv-cas.ts). All durations are measured on the
// local monotonic clock (performance.now()); wall clocks are never read, let alone compared
// across nodes.
//  [R1] Free key (absent or deleted): take it with CAS on its revision (0 when absent).
//  [R2] Someone's lease at revision r: watch it (read every ttl/10, at most 250 ms). r is the
//       highest revision learned, from a read or from the revision a refused CAS reports; a
//       lower one is a stale answer and ignored. A higher one means the holder is alive: write
//       '1' and exit. If r stays unchanged for max(our ttl, any ttl in a value read) + margin
//       (max(100 ms, ttl/20)), counted from the moment we *received* r, the lease has expired:
//       take it with CAS on r. A CAS that loses writes '1'.
//  [R3] Holding: renew with CAS on our revision every ttl/3. S = the time at which the
//       last successful write was *sent*. If no renewal succeeds by S + ttl/2, give up: close
//       stdout (the daemon sees EOF = lock lost at once), delete the key with CAS if it is still
//       ours, exit.
//  [R4] A write whose reply is lost (timeout, reconnect) may still commit. Whenever we read the
//       key and find our token, we adopt that revision, with S = the send time of the earliest
//       write whose outcome we did not know (never later than the write that committed).
//  [R5] Reads are hints only; a stale read can delay a take or cause a needless give-up, never
//       a second holder, because every take and renewal is a CAS.
//  SIGTERM (release) or parent gone (checked every 5 s, as CTDB's helpers): wait for an
//  in-flight renewal, delete the key with CAS on our revision, exit. Parent already 1: exit at
//  once without a status (the daemon sees '3').
//
// SAFETY ARGUMENT (no two daemons see '0' at overlapping times)
// Let A's last successful write be sent at S (A's clock) and committed as revision r at real
// time C >= S. B can take the lease from A only by a CAS on r (a later revision would be A's
// own, and the argument applies to that write instead) — and that CAS succeeds only if nothing
// committed after r, so A's holding ends by S + ttl/2 on A's clock [R3]; with [R4] the same holds
// for replies A never saw, because A then uses an S that is no later than the send time of the
// write that committed. B received r at O >= C >= S and sends its CAS no earlier than
// O + ttl + margin on B's clock [R2], so B's '0' comes at least ttl/2 + margin after A's
// deadline. That gap has to absorb only the *rate* difference of two monotonic clocks (parts per
// million), A's timer lateness and the time for A's EOF to reach A's daemon — not any offset
// between clocks, so skewed or stepping wall clocks are harmless. A release deletes the key
// only after the daemon already stopped relying on it (it sends SIGTERM after deciding to
// release; a give-up closes stdout before deleting).
// Assumptions and limits: JetStream's CAS plus duplicate detection is linearizable (quorum
// commit, R3 stream); a holder process is not frozen (SIGSTOP, VM pause, swap storm) for more
// than about ttl/2 + margin between a timer check and the daemon acting on it — the limitation
// of every lease, shared with
// CTDB's etcd and RADOS helpers; the key's revision could serve as a fencing token where that
// matters. A NATS partition leaves the minority-side holder unable to renew (no quorum): it gives
// up after ttl/2, the majority side takes over after ttl + margin.
//
// TIMING (ttl 3 s): renew every 1 s; give up 1.5 s after the last renewal sent; a contender
// reports contention within about 1 s of starting to watch; after a killed holder, a contender
// takes over 3.15 s after it first read the last renewal (plus the time to start the helper,
// about 0.5 s, when its previous attempt had just seen contention): 3.2 to 4 s after the kill
// in the tests; right after a release, at once.

import {Command, Flags} from '@oclif/core'

export default class MutexNatsKv extends Command {
  static override summary = 'Cluster mutex helper holding a lease in the cluster\'s JetStream KV bucket (the default cluster lock).'
  static override description = [
    'Speaks CTDB\'s cluster mutex helper protocol: writes one status character to standard output (no newline) —',
    '0 lease taken and held, 1 contention (then exits), 3 error — and, after 0, renews the lease every ttl/3 until',
    'SIGTERM (which releases it), until its parent process is gone, or until it could not renew within ttl/2',
    '(then it exits: lock lost). A lease nobody renews expires after ttl, measured on each contender\'s own',
    'monotonic clock, so clock skew between nodes does not matter. The bucket is <cluster>_lock, the key leader.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> mutex nats-kv --servers nats://10.0.0.1:4222,nats://10.0.0.2:4222 --cluster prod --holder pnn:0',
    '<%= config.bin %> mutex nats-kv --servers nats://127.0.0.1:4222 --cluster dev --holder pnn:1 --ttl 5s --creds node.creds',
  ]

  static override flags = {
    servers: Flags.string({summary: 'NATS server URLs, comma-separated (tried in this order).', required: true, helpValue: 'URL[,URL…]'}),
    cluster: Flags.string({summary: 'Cluster name: the lease lives in the KV bucket <cluster>_lock.', required: true, helpValue: 'NAME'}),
    holder: Flags.string({summary: 'Who holds the lease (stored in the value, for humans).', required: true, helpValue: 'ID'}),
    ttl: Flags.string({summary: 'Lease time to live.', default: '3s', helpValue: 'DURATION'}),
    creds: Flags.string({summary: 'NATS credentials file.', helpValue: 'FILE'}),
    'tls-ca': Flags.string({summary: 'CA certificate for the NATS servers.', helpValue: 'FILE'}),
    'tls-cert': Flags.string({summary: 'Client certificate.', helpValue: 'FILE'}),
    'tls-key': Flags.string({summary: 'Client key.', helpValue: 'FILE'}),
    replicas: Flags.integer({summary: 'Replicas when the bucket has to be created (default: min(3, servers in the NATS cluster)).', min: 1, max: 5}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(MutexNatsKv)
    const {parseDuration} = await import('../../config/duration.js')
    let ttlMs: number
    try {
      ttlMs = parseDuration(flags.ttl)
    } catch (error) {
      this.error((error as Error).message, {exit: 2})
    }
    if (ttlMs < 300) this.error('--ttl must be at least 300ms', {exit: 2})
    if (!/^[a-z0-9-]+$/.test(flags.cluster)) this.error('--cluster must be lower-case letters, digits and dashes', {exit: 2})
    const servers = flags.servers.split(',').map((s) => s.trim()).filter(Boolean)
    if (servers.length === 0) this.error('--servers needs at least one URL', {exit: 2})
    const {runNatsKvHelper} = await import('../../daemon/mutex/nats-kv-lease.js')
    await runNatsKvHelper({
      servers,
      cluster: flags.cluster,
      holder: flags.holder,
      ttlMs,
      creds: flags.creds,
      tls: {ca: flags['tls-ca'], cert: flags['tls-cert'], key: flags['tls-key']},
      replicas: flags.replicas,
    })
  }
}
