// CTDB's public_addresses file (core-spec §8.1) and the merge of per-node files into one list
// whose entries name the nodes allowed to host them. Pure.
import {INTERFACE_NAME} from '../config/formats.js'
import {formatCidr, isNetworkAddress, parseCidr} from '../config/ip.js'
import type {Cidr} from '../config/model.js'
import {fileLines, splitBlanks} from './text.js'
import type {Diagnostics} from './types.js'

export interface CtdbPublicAddress {
  /** Canonical `ADDRESS/BITS`. */
  address: string
  cidr: Cidr
  interfaces: string[]
  file: string
  line: number
}

/**
 * One public_addresses file: `ADDRESS/MASKBITS IFACE[,IFACE…]` per line; leading blanks, `#`
 * lines and empty lines are ignored; text after the interface token is ignored (warning). A
 * missing interface, an unparsable address and a duplicate address are CTDB's start-up errors.
 */
export function parsePublicAddressesFile(text: string, file: string, diag: Diagnostics): CtdbPublicAddress[] {
  const out: CtdbPublicAddress[] = []
  const seen = new Map<string, number>()
  for (const {line, text: raw} of fileLines(text)) {
    const tokens = splitBlanks(raw)
    if (tokens.length === 0 || tokens[0].startsWith('#')) continue
    const cidr = parseCidr(tokens[0])
    if (!cidr) {
      diag.error(file, line, `Badly formed line ${line}: "${tokens[0]}" is not ADDRESS/MASKBITS (CTDB refuses to start with this file)`)
      continue
    }
    if (tokens.length < 2) {
      diag.error(file, line, `No interface specified at line ${line}: give the interface(s) after the address, e.g. "${tokens[0]} eth1"`)
      continue
    }
    if (tokens.length > 2) diag.warn(file, line, `"${tokens.slice(2).join(' ')}" after the interfaces is ignored, as CTDB ignores it`)
    const interfaces = tokens[1].split(',').filter((i) => i !== '')
    const bad = interfaces.find((i) => !INTERFACE_NAME.test(i))
    if (bad !== undefined || interfaces.length === 0) {
      diag.error(file, line, `"${bad ?? tokens[1]}" is not an interface name (1 to 15 characters from A-Z a-z 0-9 _ . : -)`)
      continue
    }
    const address = formatCidr(cidr)
    const earlier = seen.get(cidr.address)
    if (earlier !== undefined) {
      diag.error(file, line, `Duplicate public IP address '${cidr.address}' (first at line ${earlier}): CTDB refuses to start with this file`)
      continue
    }
    seen.set(cidr.address, line)
    if (isNetworkAddress(cidr)) {
      diag.warn(file, line, `${address} names a network, not a host address; ctdbctl refuses it, so it is not imported`)
      continue
    }
    out.push({address, cidr, interfaces: dedupe(interfaces), file, line})
  }
  return out
}

export interface MergedPublicAddress {
  address: string
  interfaces: string[]
  /** pnns allowed to host; undefined = every node. */
  pnns?: number[]
  /** Where it was read: `file:line` for each file listing it. */
  sources: {file: string; line: number}[]
}

/**
 * Merge per-node lists: an address may be hosted by the nodes whose file lists it. An address
 * listed by every active node gets no node restriction. When files disagree about the prefix
 * length the first (lowest pnn) wins; interfaces are united in order of first appearance.
 */
export function mergePerNode(
  perNode: {pnn: number; addresses: CtdbPublicAddress[]}[],
  activePnns: number[],
  diag: Diagnostics,
): MergedPublicAddress[] {
  const byAddress = new Map<string, MergedPublicAddress & {cidr: Cidr; pnnSet: Set<number>}>()
  for (const {pnn, addresses} of [...perNode].sort((a, b) => a.pnn - b.pnn)) {
    for (const a of addresses) {
      const known = byAddress.get(a.cidr.address)
      if (!known) {
        byAddress.set(a.cidr.address, {address: a.address, interfaces: [...a.interfaces], cidr: a.cidr, pnnSet: new Set([pnn]), sources: [{file: a.file, line: a.line}]})
        continue
      }
      known.pnnSet.add(pnn)
      known.sources.push({file: a.file, line: a.line})
      if (a.cidr.prefixLength !== known.cidr.prefixLength) {
        diag.warn(a.file, a.line, `${a.address} has prefix length /${known.cidr.prefixLength} in ${known.sources[0].file}:${known.sources[0].line}; ctdbctl keeps one prefix length per address, so /${known.cidr.prefixLength} is used`)
      }
      const added = a.interfaces.filter((i) => !known.interfaces.includes(i))
      if (added.length > 0) {
        diag.warn(a.file, a.line, `${a.cidr.address} is on ${a.interfaces.join(',')} here but on ${known.interfaces.join(',')} in ${known.sources[0].file}; ctdbctl keeps one interface list per address, so ${[...known.interfaces, ...added].join(',')} is used (a node uses the listed interfaces it has)`)
        known.interfaces.push(...added)
      }
    }
  }
  const everyone = new Set(activePnns)
  return [...byAddress.values()].map((m) => {
    const pnns = [...m.pnnSet].sort((a, b) => a - b)
    const all = [...everyone].every((p) => m.pnnSet.has(p))
    return {address: m.address, interfaces: m.interfaces, ...(all ? {} : {pnns}), sources: m.sources}
  })
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)]
}
