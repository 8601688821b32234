import {Args, Command} from '@oclif/core'

export default class MutexFcntl extends Command {
  static override summary = "Cluster mutex helper holding a POSIX fcntl lock on FILE, as CTDB's ctdb_mutex_fcntl_helper."
  static override description = [
    'Speaks CTDB\'s cluster mutex helper protocol: writes one status character to standard output (no newline) —',
    '0 lock taken and held, 1 contention, 3 error — and, after 0, holds the lock until SIGTERM, until its parent',
    'process is gone (checked every 5 s) or until the lock file is removed or replaced (checked every RECHECK',
    'seconds, 0 = never; default 5). PING_TIMEOUT (default 0 = off) gives up when one check takes longer.',
    'Interoperates with CTDB\'s own helper on the same file: while one holds it, the other reports contention.',
    'Usually started by the daemon for `clusterLock: {type: fcntl}`; usable as a CTDB `cluster lock = !…` command.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> mutex fcntl /clusterfs/.ctdb/reclock',
    '<%= config.bin %> mutex fcntl /clusterfs/.ctdb/reclock 10 15',
  ]

  // Arguments are checked by the helper itself so that bad usage gives CTDB's usage text.
  static override strict = false
  static override args = {
    file: Args.string({description: 'lock file (created with mode 0600 if missing)'}),
    recheck: Args.string({description: 'seconds between checks that FILE still exists with the same inode (0 = never; default 5)'}),
    pingTimeout: Args.string({description: 'seconds one check may take before the lock is given up (0 = off, the default)'}),
  }

  async run(): Promise<void> {
    const {runFcntlHelper} = await import('../../daemon/mutex/fcntl-helper.js')
    await runFcntlHelper(this.argv)
  }
}
