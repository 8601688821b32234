// String formats of the config schema ("format" keyword), each with the sentence that tells the
// user what is expected when a value does not match.
import {isAbsolute} from 'node:path'
import {isDuration} from './duration.js'
import {parseCidr, parseIp} from './ip.js'

export interface FormatDef {
  validate: (value: string) => boolean
  expected: string
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

export const INTERFACE_NAME = /^[A-Za-z0-9_.:-]{1,15}$/

export const FORMATS: Record<string, FormatDef> = {
  'cluster-name': {
    validate: (v) => NAME.test(v),
    expected: 'a cluster name of lower-case letters, digits and dashes, at most 63 characters, starting and ending with a letter or digit',
  },
  'node-name': {
    validate: (v) => /^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$/.test(v),
    expected: 'a node name of letters, digits, ".", "_" and "-", at most 63 characters, starting with a letter or digit',
  },
  'group-name': {
    validate: (v) => /^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$/.test(v),
    expected: 'a name of letters, digits, ".", "_" and "-", at most 63 characters, starting with a letter or digit',
  },
  'database-name': {
    validate: (v) => /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(v),
    expected: 'a database name of letters, digits, ".", "_" and "-" (e.g. locking.tdb)',
  },
  ip: {
    validate: (v) => parseIp(v) !== undefined,
    expected: 'an IPv4 address (a.b.c.d) or IPv6 address without prefix length',
  },
  cidr: {
    validate: (v) => parseCidr(v) !== undefined,
    expected: 'an address with prefix length, e.g. 192.168.1.10/24 or 2001:db8::10/64',
  },
  'interface-name': {
    validate: (v) => INTERFACE_NAME.test(v),
    expected: 'an interface name of 1 to 15 characters from A-Z a-z 0-9 _ . : -',
  },
  duration: {
    validate: isDuration,
    expected: 'a duration: a whole number followed by ms, s, m or h (e.g. 500ms, 5s, 2m)',
  },
  'absolute-path': {
    validate: (v) => isAbsolute(v) && !v.includes('\0'),
    expected: 'an absolute path (starting with /)',
  },
  'nats-url': {
    validate: (v) => {
      try {
        const u = new URL(v)
        return ['nats:', 'tls:', 'ws:', 'wss:'].includes(u.protocol) && u.hostname !== '' && u.pathname.replace(/^\/$/, '') === '' && u.search === '' && u.hash === ''
      } catch {
        return false
      }
    },
    expected: 'a NATS server URL such as nats://10.0.0.1:4222 (schemes nats, tls, ws, wss)',
  },
  'static-route': {
    validate: (v) => {
      const [net, gw, ...rest] = v.split('@')
      return rest.length === 0 && parseCidr(net) !== undefined && (gw === undefined || parseIp(gw) !== undefined)
    },
    expected: 'a route NET/MASK or NET/MASK@GATEWAY, e.g. 10.1.2.0/24@10.1.1.253',
  },
}
