// The environment of every program the daemon runs (lock helpers, ip, iptables, ipvsadm, event
// scripts): a fixed minimal set, never the daemon's own environment, so nothing from the
// operator's shell (or a credential in it) reaches a helper. Values from config go in argv only.
import {dirname} from 'node:path'

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

export function helperEnvironment(): NodeJS.ProcessEnv {
  // The node runtime's directory first, so `#!/usr/bin/env node` helpers find the same node.
  const path = [...new Set([dirname(process.execPath), ...SYSTEM_PATH])].join(':')
  return {PATH: path, LANG: 'C', LC_ALL: 'C'}
}
