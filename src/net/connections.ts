// The connection list format of `ctdb_killtcp` (stdin or two arguments): one `A B` pair per
// line, where A is the end that is IMPERSONATED and B the end that receives the tickle ACK and
// then the RST (ctdb_connection_list_read with client_first = true: A is CTDB's "client" slot, B
// its "server" slot). See helpers-spec §3.1: the C aliases are confusing, so this module uses
// explicit names.
//
// Rules, as in CTDB's ctdb_connection_from_string: empty lines and lines whose first character is
// `#` are skipped; tokens are separated by spaces or TABs; tokens after the second are ignored;
// both addresses must have the same family. Unlike CTDB, which stops at the first bad line, every
// bad line is reported (with its 1-based line number) and the good ones are kept.
import {AddressError, formatSockAddr, parseSockAddr, type SockAddr} from './addr.js'

export interface KillConnection {
  /** Token 1: the end we pretend to be (source of the tickle ACK and of the RST). */
  impersonate: SockAddr
  /** Token 2: the end that is tickled and then reset. */
  reset: SockAddr
}

export interface LineError {
  /** 1-based line number. */
  line: number
  text: string
  reason: string
}

export class ConnectionLineError extends Error {}

/** Parses one line; undefined for a blank or comment line; throws ConnectionLineError. */
export function parseConnectionLine(line: string): KillConnection | undefined {
  if (line === '' || line.startsWith('#')) return undefined
  const tokens = line.split(/[ \t]+/).filter((t) => t !== '')
  if (tokens.length < 2) throw new ConnectionLineError(tokens.length === 0 ? 'blank line with only spaces' : 'expected two addresses: SRC:PORT DST:PORT')
  let impersonate: SockAddr
  let reset: SockAddr
  try {
    impersonate = parseSockAddr(tokens[0])
    reset = parseSockAddr(tokens[1])
  } catch (e) {
    if (e instanceof AddressError) throw new ConnectionLineError(e.message)
    throw e
  }
  if (impersonate.family !== reset.family) {
    throw new ConnectionLineError(`address families differ (${formatSockAddr(impersonate)} is IPv${impersonate.family}, ${formatSockAddr(reset)} is IPv${reset.family})`)
  }
  return {impersonate, reset}
}

/** Parses a whole input; lines are separated by `\n` only (a trailing `\r` makes a port invalid, as in CTDB). */
export function parseConnectionLines(text: string): {connections: KillConnection[]; errors: LineError[]} {
  const connections: KillConnection[] = []
  const errors: LineError[] = []
  const lines = text.split('\n')
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  for (let i = 0; i < lines.length; i++) {
    try {
      const c = parseConnectionLine(lines[i])
      if (c) connections.push(c)
    } catch (e) {
      if (!(e instanceof ConnectionLineError)) throw e
      errors.push({line: i + 1, text: lines[i], reason: e.message})
    }
  }
  return {connections, errors}
}

/** `A B` as CTDB prints a killtcp connection (impersonated end first). */
export function formatConnection(c: KillConnection): string {
  return `${formatSockAddr(c.impersonate)} ${formatSockAddr(c.reset)}`
}
