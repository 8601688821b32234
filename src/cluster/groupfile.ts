// CTDB's NAT gateway / LVS group file (`natgw_nodes`, `lvs_nodes`; helpers-spec.md §0.4) and the
// equivalent lines derived from a ctdbctl group. Pure.
//
// Format: one node per line, `<private-IP>[<whitespace><options>]`; the only valid options string
// is `follower-only`. Lines are split like the helpers' `while read _ip _options`: leading and
// trailing blanks dropped, the first blank-separated word is the IP, the rest (inner spacing kept)
// is the options string. Backslashes are taken literally.

import type {GroupMember, NodeConfig} from '../config/model.js'

export type GroupFeature = 'natgw' | 'lvs'

export const FOLLOWER_ONLY = 'follower-only'

/** One line of a group file, split as the helpers split it. */
export interface GroupLine {
  /** First word; `''` for a blank line, `#…` for a comment line. */
  ip: string
  /** Rest of the line, trimmed; `''` when absent. */
  options: string
  /**
   * Set when the line comes from a ctdbctl group: the member is matched to the node map by pnn.
   * Absent for lines read from a CTDB file: matched by comparing `ip` to the node's address.
   */
  pnn?: number
}

export type GroupFileResult =
  | {ok: true; lines: GroupLine[]}
  | {ok: false; message: string; exitCode: 1}

const HELPER: Record<GroupFeature, string> = {natgw: 'ctdb_natgw', lvs: 'ctdb_lvs'}

/** Where CTDB looks when CTDB_NATGW_NODES / CTDB_LVS_NODES is unset (CTDB_BASE=/etc/ctdb). */
export const DEFAULT_GROUP_FILE: Record<GroupFeature, string> = {
  natgw: '/etc/ctdb/natgw_nodes',
  lvs: '/etc/ctdb/lvs_nodes',
}

const BLANKS = /^[ \t]+|[ \t]+$/g

/** Split one line like `read _ip _options` (default IFS). */
export function splitGroupLine(line: string): GroupLine {
  const trimmed = line.replace(BLANKS, '')
  const m = /^([^ \t]*)(?:[ \t]+(.*))?$/s.exec(trimmed)
  return {ip: m?.[1] ?? '', options: m?.[2] ?? ''}
}

/** Lines of a group file's text. Trailing newlines are dropped first, as `$(cat file)` does. */
export function groupFileTextLines(text: string): string[] {
  const body = text.replace(/\n+$/, '')
  return body === '' ? [] : body.split('\n')
}

export function isFollowerOnly(line: GroupLine): boolean {
  return line.options === FOLLOWER_ONLY
}

/** `true` for a line skipped by validation (first word starts with `#`). */
export function isCommentLine(line: GroupLine): boolean {
  return line.ip.startsWith('#')
}

/**
 * Parse and validate a CTDB group file given as its lines (in file order, as written). Trailing
 * empty lines are dropped (the helpers read the file through `$(cat …)`); interior blank lines and
 * comment lines are kept because `list` prints them. Any options string other than `` or
 * `follower-only` on a non-comment line is CTDB's fatal
 * `ctdb_natgw: Invalid options "<opts>" in  "<file>"` (two spaces, sic), exit 1. The pre-4.13
 * spelling `slave-only` is rejected like CTDB 4.13+ does.
 */
export function parseGroupFile(
  lines: readonly string[],
  opts: {feature?: GroupFeature; file?: string} = {},
): GroupFileResult {
  const feature = opts.feature ?? 'natgw'
  const file = opts.file ?? DEFAULT_GROUP_FILE[feature]
  const kept = [...lines]
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop()
  const parsed = kept.map(splitGroupLine)
  for (const line of parsed) {
    if (isCommentLine(line)) continue
    if (line.options !== '' && line.options !== FOLLOWER_ONLY) {
      return {ok: false, message: `${HELPER[feature]}: Invalid options "${line.options}" in  "${file}"`, exitCode: 1}
    }
  }
  return {ok: true, lines: parsed}
}

/** CTDB's message when the group file is missing or unreadable (exit 1). */
export function groupFileNotFoundMessage(feature: GroupFeature, file: string): string {
  return feature === 'natgw'
    ? `ctdb_natgw: NAT gateway nodes file "${file}" not found`
    : `ctdb_lvs: LVS nodes file "${file}" not found`
}

/**
 * The group-file lines equivalent to a ctdbctl group: one line per member in the order the user
 * wrote them, matched to the node map by pnn. A member whose pnn is not in `nodes` keeps an empty
 * address (config validation rejects that case before it gets here).
 */
export function groupLinesFromMembers(members: readonly GroupMember[], nodes: readonly NodeConfig[]): GroupLine[] {
  const byPnn = new Map(nodes.map((n) => [n.pnn, n]))
  return members.map((m) => ({
    ip: byPnn.get(m.pnn)?.address ?? '',
    options: m.followerOnly ? FOLLOWER_ONLY : '',
    pnn: m.pnn,
  }))
}

/** The group file text CTDB would need for these lines (used by the import/export tooling). */
export function renderGroupFile(lines: readonly GroupLine[]): string {
  return lines.map((l) => (l.options ? `${l.ip}\t${l.options}` : l.ip) + '\n').join('')
}

/** Does a group line designate this node-map entry? */
export function lineMatchesNode(line: GroupLine, node: {pnn: number; address: string}): boolean {
  return line.pnn !== undefined ? line.pnn === node.pnn : line.ip !== '' && line.ip === node.address
}
