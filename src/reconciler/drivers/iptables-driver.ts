// iptables through argv arrays (iptables-nft on these machines). Every rule we write carries a
// comment match `-m comment --comment <tag>` (for the NAT gateway `ctdbctl:natgw:<group>`), so
// only our rules are ever checked, deleted or listed; rules of anyone else stay untouched.
import {CommandError, mustRun, runIn, type CommandTarget} from '../natgw/command.js'

export type IptablesTable = 'filter' | 'nat' | 'mangle' | 'raw'

export interface IptablesRule {
  table: IptablesTable
  chain: string
  /** Matches, as CTDB writes them (`-s NET ! -d NET`, `-p tcp --syn -d ADDR/32`). */
  match: string[]
  /** Target and its options (`['-j', 'MASQUERADE']`). */
  jump: string[]
  /** The comment identifying our rules. */
  tag: string
}

/** The tag of a NAT gateway group's rules. Characters outside [A-Za-z0-9_.:-] become `_`. */
export function natgwTag(group: string): string {
  return `ctdbctl:natgw:${group}`.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 255)
}

/** `iptables -w -t TABLE <-A|-I|-D|-C> CHAIN <match> -m comment --comment TAG <jump>` */
export function iptablesArgv(action: '-A' | '-I' | '-D' | '-C', rule: IptablesRule, binary = 'iptables'): string[] {
  return [binary, '-w', '-t', rule.table, action, rule.chain, ...rule.match, '-m', 'comment', '--comment', rule.tag, ...rule.jump]
}

/** Splits one `iptables -S` line into words, removing the double quotes iptables puts around comments. */
export function splitRuleSpec(line: string): string[] {
  const words: string[] = []
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2])
  return words
}

/** One of our rules as `iptables -S` prints it. */
export interface ListedRule {
  table: IptablesTable
  chain: string
  /** The words after `-A CHAIN`, unquoted. */
  spec: string[]
  /** The line as printed. */
  line: string
}

export interface IptablesDriverOptions extends CommandTarget {
  /** `iptables` (default) or `ip6tables`. */
  binary?: string
}

export class IptablesDriver {
  private readonly binary: string

  constructor(private readonly target: IptablesDriverOptions = {}) {
    this.binary = target.binary ?? 'iptables'
  }

  /** `iptables -C`: is this exact rule (with our tag) present? */
  async exists(rule: IptablesRule): Promise<boolean> {
    const r = await runIn(this.target, iptablesArgv('-C', rule, this.binary))
    if (r.code === 0) return true
    // 1 = no such rule (or no such chain); anything else (bad arguments, no binary, not root) is an error.
    if (r.code === 1) return false
    throw new CommandError(iptablesArgv('-C', rule, this.binary), r)
  }

  /** `iptables -A` (append at the end of the chain). */
  async append(rule: IptablesRule): Promise<void> {
    await mustRun(this.target, iptablesArgv('-A', rule, this.binary))
  }

  /** `iptables -I` (insert at the top of the chain). */
  async insert(rule: IptablesRule): Promise<void> {
    await mustRun(this.target, iptablesArgv('-I', rule, this.binary))
  }

  /** `iptables -D`: deletes one copy of the rule; throws when there is none. */
  async delete(rule: IptablesRule): Promise<void> {
    await mustRun(this.target, iptablesArgv('-D', rule, this.binary))
  }

  /** Our rules (those whose comment is exactly `tag`) in the given tables, as `iptables -S` lists them. */
  async list(tag: string, tables: readonly IptablesTable[] = ['filter', 'nat']): Promise<ListedRule[]> {
    const out: ListedRule[] = []
    for (const table of tables) {
      const {stdout} = await mustRun(this.target, [this.binary, '-w', '-t', table, '-S'])
      for (const line of stdout.split('\n')) {
        const words = splitRuleSpec(line)
        if (words[0] !== '-A' || words.length < 2) continue
        const spec = words.slice(2)
        const at = spec.indexOf('--comment')
        if (at >= 0 && spec[at + 1] === tag) out.push({table, chain: words[1], spec, line})
      }
    }
    return out
  }

  /** Deletes every rule carrying `tag` (however it got there); returns how many were deleted. */
  async purge(tag: string, tables: readonly IptablesTable[] = ['filter', 'nat']): Promise<number> {
    const rules = await this.list(tag, tables)
    for (const r of rules) await mustRun(this.target, [this.binary, '-w', '-t', r.table, '-D', r.chain, ...r.spec])
    return rules.length
  }
}
