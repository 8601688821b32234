// The human rendering of a plan document, in the spirit of `terraform plan` (`+` add, `~` change,
// `-` remove, `!` unsafe). Pure: colors come from the Chalk instance given (level 0 = plain text,
// no escape codes). The JSON rendering is renderPlanJson (document.ts).

import {Chalk, type ChalkInstance} from 'chalk'
import type {Change, ChangeAction, ChangeKind, FieldChange, Value} from './changes.js'
import type {AddressConsequence, LeaderChange, NodeRef} from './consequences.js'
import type {PlanDocument} from './document.js'

export const PLAIN: ChalkInstance = new Chalk({level: 0})

const KIND_LABEL: Record<ChangeKind, string> = {
  cluster: 'cluster',
  nats: 'nats',
  clusterLock: 'cluster lock',
  node: 'node',
  publicAddress: 'public address',
  ipAllocation: 'ip allocation',
  natgw: 'natgw group',
  lvs: 'lvs group',
  database: 'database',
  service: 'service',
  eventScripts: 'event scripts',
  tunables: 'tunables',
}

/** Kinds with exactly one instance: the label alone names them. */
const SINGLETONS: ReadonlySet<ChangeKind> = new Set(['nats', 'clusterLock', 'ipAllocation', 'eventScripts', 'tunables'])

const SIGN: Record<ChangeAction, string> = {add: '+', change: '~', remove: '-'}

function paint(c: ChalkInstance, action: ChangeAction | 'unsafe'): (s: string) => string {
  switch (action) {
    case 'add':
      return c.green
    case 'change':
      return c.yellow
    case 'remove':
      return c.red
    case 'unsafe':
      return c.red.bold
  }
}

/** A value as it would be written in the YAML file (flow style). */
export function formatValue(v: Value): string {
  if (v === null) return '(none)'
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')}}`
  if (typeof v === 'string') return v === '' || /^[\s[\]{},:#&*!|>'"%@`-]|[,\]}]|: | #|\s$/.test(v) ? JSON.stringify(v) : v
  return String(v)
}

function formatField(kind: ChangeKind, d: FieldChange, side: 'old' | 'new'): string {
  const v = d[side]
  if (v === null && kind === 'publicAddress' && d.field === 'nodes') return '(every node)'
  return formatValue(v)
}

function changeTitle(c: Change): string {
  if (SINGLETONS.has(c.kind)) return KIND_LABEL[c.kind]
  const id = c.kind === 'node' && c.pnn !== undefined ? `${c.id} (pnn ${c.pnn})` : c.id
  return `${KIND_LABEL[c.kind]} ${id}`
}

function changeNote(c: Change): string {
  if (c.kind === 'node' && c.action === 'remove') return ` (marked deleted; pnn ${c.pnn} stays reserved)`
  return ''
}

function renderChange(c: Change, chalk: ChalkInstance): string[] {
  const lines = [`  ${paint(chalk, c.action)(SIGN[c.action])} ${chalk.bold(changeTitle(c))}${changeNote(c)}`]
  const width = Math.max(...c.details.map((d) => d.field.length))
  for (const d of c.details) {
    const action: ChangeAction = d.old === null ? 'add' : d.new === null ? 'remove' : 'change'
    const value =
      action === 'add' ? formatField(c.kind, d, 'new')
      : action === 'remove' ? formatField(c.kind, d, 'old')
      : `${formatField(c.kind, d, 'old')} -> ${formatField(c.kind, d, 'new')}`
    lines.push(`      ${paint(chalk, action)(SIGN[action])} ${d.field.padEnd(width)} = ${value}`)
  }
  return lines
}

type Who = (n: NodeRef | null) => string

/** Node names for the consequences; a name that stands for two pnns (renumbered) gets its pnn. */
function namer(doc: PlanDocument): Who {
  const q = doc.consequences
  const refs = [...q.addresses.flatMap((a) => [a.from, a.to]), ...q.leaders.flatMap((l) => [l.from, l.to]), ...q.nodesLosingAll, ...q.load.map((l) => l.node)]
  const pnns = new Map<string, Set<number>>()
  for (const r of refs) if (r) pnns.set(r.name, (pnns.get(r.name) ?? new Set()).add(r.pnn))
  return (n) => (n === null ? '(none)' : (pnns.get(n.name)?.size ?? 0) > 1 ? `${n.name}/pnn${n.pnn}` : n.name)
}

function table(rows: string[][]): string[] {
  const widths: number[] = []
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd())
}

const ADDRESS_EFFECT: Record<AddressConsequence['effect'], {sign: ChangeAction; text: (a: AddressConsequence) => string}> = {
  moves: {sign: 'change', text: () => 'moves'},
  unassigned: {sign: 'remove', text: () => 'becomes unassigned: no node can host it'},
  assigned: {sign: 'add', text: () => 'newly assigned'},
  added: {sign: 'add', text: (a) => (a.to ? 'new address' : 'new address, no node can host it')},
  removed: {sign: 'remove', text: () => 'address removed'},
}

function leaderText(l: LeaderChange): {sign: ChangeAction; text: string} {
  if (l.groupChange === 'added') return {sign: 'add', text: l.to ? 'new group' : 'new group, no node can lead'}
  if (l.groupChange === 'removed') return {sign: 'remove', text: 'group removed'}
  return {sign: 'change', text: l.to ? 'leader moves' : 'no node can lead'}
}

function renderConsequences(doc: PlanDocument, chalk: ChalkInstance): string[] {
  const q = doc.consequences
  const who = namer(doc)
  const out: string[] = [chalk.bold(doc.state ? `Consequences (state: ${doc.state.source}):` : 'Consequences (no state given):'), '']
  for (const n of q.notes) out.push(`  Note: ${n}`)
  for (const w of q.warnings) out.push(`  ${chalk.red.bold('!')} ${w}`)
  if (q.notes.length + q.warnings.length > 0) out.push('')
  const signed = (rows: {sign: ChangeAction; cells: string[]}[]) => {
    const aligned = table(rows.map((r) => r.cells))
    return aligned.map((line, i) => `    ${paint(chalk, rows[i].sign)(SIGN[rows[i].sign])} ${line}`)
  }
  let any = false
  if (q.addresses.length > 0) {
    any = true
    out.push('  Public addresses:')
    out.push(...signed(q.addresses.map((a) => ({sign: ADDRESS_EFFECT[a.effect].sign, cells: [a.address, `${who(a.from)} -> ${who(a.to)}`, ADDRESS_EFFECT[a.effect].text(a)]}))))
  }
  if (q.leaders.length > 0) {
    any = true
    out.push('  Leaders:')
    out.push(...signed(q.leaders.map((l) => {
      const t = leaderText(l)
      return {sign: t.sign, cells: [`${l.group} ${l.name}`, `${who(l.from)} -> ${who(l.to)}`, t.text]}
    })))
  }
  if (q.nodesLosingAll.length > 0) {
    any = true
    out.push(`  Nodes losing all their addresses: ${q.nodesLosingAll.map((n) => `${n.name} (pnn ${n.pnn})`).join(', ')}`)
  }
  if (q.load.length > 0) {
    out.push(`  Addresses per node: ${q.load.map((l) => `${who(l.node)} ${l.before} -> ${l.after}`).join(', ')}`)
  }
  if (!any) out.push('  No address moves and no leader changes.')
  return out
}

function colorDiff(diff: string, chalk: ChalkInstance): string[] {
  return diff.replace(/\n$/, '').split('\n').map((line) => {
    if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('===')) return chalk.bold(line)
    if (line.startsWith('@@')) return chalk.cyan(line)
    if (line.startsWith('+')) return chalk.green(line)
    if (line.startsWith('-')) return chalk.red(line)
    return line
  })
}

/** The human plan; ends with a newline. */
export function renderPlan(doc: PlanDocument, chalk: ChalkInstance = PLAIN): string {
  const out: string[] = []
  if (doc.diff !== undefined) {
    out.push(...(doc.diff === '' ? ['(the two files are identical)'] : colorDiff(doc.diff, chalk)), '')
  }
  const against = doc.base ? doc.base.source : 'an empty cluster'
  if (doc.changes.length === 0 && doc.unsafe.length === 0) {
    out.push(`Planning ${doc.config.source} against ${against}.`, '', chalk.green.bold('No changes.') + ' The cluster matches the configuration.')
    return out.join('\n') + '\n'
  }
  out.push(`Planning ${doc.config.source} against ${against}.`, '')
  if (doc.changes.length > 0) {
    out.push(chalk.bold(`ctdbctl will make the following changes to cluster ${doc.cluster}:`), '')
    for (const c of doc.changes) out.push(...renderChange(c, chalk))
    out.push('')
  }
  if (doc.unsafe.length > 0) {
    const n = doc.unsafe.length
    out.push(chalk.red.bold(`${n} unsafe change${n === 1 ? '' : 's'}: this plan cannot be applied.`), '')
    const width = Math.max(...doc.unsafe.map((u) => u.rule.length))
    for (const u of doc.unsafe) out.push(`  ${paint(chalk, 'unsafe')('!')} ${chalk.bold(u.rule.padEnd(width))}  ${u.reason}`)
    out.push('')
  }
  out.push(...renderConsequences(doc, chalk), '')
  const s = doc.summary
  out.push(`${chalk.bold('Plan:')} ${s.add} to add, ${s.change} to change, ${s.remove} to remove.`)
  return out.join('\n') + '\n'
}

export interface ColorContext {
  /** --color / --no-color; undefined when neither was given. */
  flag?: boolean
  env: Record<string, string | undefined>
  /** Is the output a terminal? */
  isTTY: boolean
  /** Level chalk detected for the terminal (chalk's supportsColor). */
  detected: 0 | 1 | 2 | 3
}

/**
 * The Chalk instance for the human output: no color with --no-color, with NO_COLOR set to
 * anything non-empty (no-color.org), or when the output is not a terminal (or one without color
 * support); --color forces it.
 */
export function chalkFor(ctx: ColorContext): ChalkInstance {
  if (ctx.flag === false || (ctx.env.NO_COLOR ?? '') !== '') return PLAIN
  if (ctx.flag === true) return new Chalk({level: ctx.detected === 0 ? 1 : ctx.detected})
  return ctx.isTTY && ctx.detected > 0 ? new Chalk({level: ctx.detected}) : PLAIN
}
