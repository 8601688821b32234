// CTDB's nodes file (core-spec §1.1): one address per line, the pnn is the 0-based index among the
// retained lines. Pure.
import {parseIp} from '../config/ip.js'
import {fileLines, stripBlanks} from './text.js'
import type {Diagnostics} from './types.js'

export interface CtdbNode {
  pnn: number
  /** Canonical address; `0.0.0.0` for a deleted node whose line holds no address. */
  address: string
  deleted: boolean
  line: number
  /** The line as written, without surrounding blanks. */
  text: string
}

/** The address CTDB would not use: a deleted node's placeholder. */
export const DELETED_PLACEHOLDER = '0.0.0.0'

/**
 * Parse a nodes file exactly as CTDB counts pnns:
 *  - trailing empty lines are dropped, then each line is stripped of spaces and TABs;
 *  - an empty line is skipped and does not consume a pnn;
 *  - a line starting with `#` consumes a pnn: it is a deleted node. There is no comment syntax,
 *    so a `# comment` line is a deleted node too (CTDB quirk, kept so later pnns do not shift);
 *  - any other line is one IPv4/IPv6 address, optionally with `:PORT`; anything else is CTDB's
 *    fatal `Invalid node address`.
 */
export function parseNodesFile(text: string, file: string, diag: Diagnostics): CtdbNode[] {
  const nodes: CtdbNode[] = []
  const active = new Map<string, number>()
  for (const {line, text: raw} of fileLines(text)) {
    const t = stripBlanks(raw)
    if (t === '') continue
    const pnn = nodes.length
    if (t.startsWith('#')) {
      const rest = stripBlanks(t.slice(1))
      const commented = parseNodeAddress(rest)
      if (commented) {
        nodes.push({pnn, address: commented.address, deleted: true, line, text: t})
      } else {
        diag.warn(file, line, `"${t}" looks like a comment, but CTDB has no comments in the nodes file: every "#" line is a deleted node and takes a pnn, so it is imported as deleted node ${pnn} (address ${DELETED_PLACEHOLDER}) to keep the pnns of the nodes after it`)
        nodes.push({pnn, address: DELETED_PLACEHOLDER, deleted: true, line, text: t})
      }
      continue
    }
    const parsed = parseNodeAddress(t)
    if (!parsed) {
      diag.error(file, line, `Invalid node address ${t}: each line must be one IPv4 or IPv6 address (CTDB refuses to start with this file)`)
      nodes.push({pnn, address: DELETED_PLACEHOLDER, deleted: true, line, text: t})
      continue
    }
    if (parsed.port !== undefined) {
      diag.warn(file, line, `port ${parsed.port} of ${t} is dropped: ctdbctl nodes talk over NATS, not CTDB's TCP transport`)
    }
    const other = active.get(parsed.address)
    if (other !== undefined) {
      diag.error(file, line, `address ${parsed.address} is already node ${other} (line ${nodes[other].line}): each node needs its own address`)
    } else {
      active.set(parsed.address, pnn)
    }
    nodes.push({pnn, address: parsed.address, deleted: false, line, text: t})
  }
  if (nodes.length === 0) diag.error(file, undefined, 'the nodes file lists no node')
  else if (!nodes.some((n) => !n.deleted)) diag.error(file, undefined, 'every node of the nodes file is deleted (commented out): at least one active node is needed')
  return nodes
}

/** `ADDRESS`, `IPv4:PORT`, `[IPv6]:PORT` or `IPv6:PORT` (tried only when the whole is no address). */
export function parseNodeAddress(s: string): {address: string; port?: number} | undefined {
  const plain = parseIp(s)
  if (plain) return {address: plain.address}
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(s)
  if (!m) return undefined
  const ip = parseIp(m[1])
  const port = Number(m[2])
  if (!ip || port > 65535) return undefined
  return {address: ip.address, port}
}
