// YAML loading that keeps source positions, so every problem can name its line and column.
import {isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node} from 'yaml'
import {type Problem} from './problems.js'

export const MAX_CONFIG_BYTES = 1024 * 1024
const MAX_ALIASES = 50

export interface YamlSource {
  text: string
  doc?: Document.Parsed
  /** Offsets where each line starts (from the text itself: the parser's own counter misses
   * newlines inside tokens it builds while recovering from syntax errors). */
  lineStarts: number[]
  data?: unknown
}

export interface Position {
  line: number
  column: number
}

export function parseYaml(text: string): {source: YamlSource; problems: Problem[]} {
  const source: YamlSource = {text, lineStarts: lineStartsOf(text)}
  const located = (offset: number, rule: string, message: string): Problem => {
    const {line, column} = linePosition(source, offset)
    return {severity: 'error', rule, message, pointer: '', line, column}
  }
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    return {source, problems: [{severity: 'error', rule: 'yaml.size', message: `file is larger than ${MAX_CONFIG_BYTES / 1024} KiB; a cluster file this big is a mistake (split generated data out)`, pointer: '', line: 1, column: 1}]}
  }
  const docs = parseAllDocuments(text, {uniqueKeys: true, prettyErrors: false, strict: true, logLevel: 'error'})
  const list = Array.isArray(docs) ? docs : []
  if (list.length === 0) return {source, problems: [located(0, 'yaml.empty', 'file is empty: expected one YAML document with apiVersion: ctdbctl/v1 and kind: Cluster')]}
  if (list.length > 1) {
    const second = list[1]
    return {source, problems: [located(second.range[0], 'yaml.multiple-documents', 'file holds more than one YAML document: put one cluster per file and remove the extra "---" section')]}
  }
  const doc = list[0]
  source.doc = doc
  const problems: Problem[] = []
  for (const e of doc.errors) {
    const rule = e.code === 'DUPLICATE_KEY' ? 'yaml.duplicate-key' : 'yaml.syntax'
    const message = e.code === 'DUPLICATE_KEY' ? 'duplicate key: each key may appear only once in a mapping; remove or merge the repeated one' : `YAML syntax error: ${firstLine(e.message)}`
    problems.push(located(e.pos[0], rule, message))
  }
  if (problems.length > 0) return {source, problems}
  let aliases = 0
  let firstExcess: number | undefined
  visit(doc, {
    Alias(_, node) {
      aliases++
      if (aliases > MAX_ALIASES && firstExcess === undefined) firstExcess = node.range?.[0] ?? 0
    },
  })
  if (firstExcess !== undefined) {
    return {source, problems: [located(firstExcess, 'yaml.aliases', `more than ${MAX_ALIASES} YAML aliases: write the values out instead of using anchors this heavily`)]}
  }
  try {
    source.data = doc.toJS({maxAliasCount: 1000})
  } catch (e) {
    return {source, problems: [located(0, 'yaml.aliases', `YAML aliases expand too much (${(e as Error).message}); write the values out instead`)]}
  }
  return {source, problems}
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
}

/**
 * Position of the value at a JSON pointer; with `key` the position of its key in the parent map.
 * Falls back to the closest existing ancestor.
 */
export function positionOf(source: YamlSource, ptr: string, key = false): Position {
  const doc = source.doc
  const pos = (offset: number): Position => linePosition(source, offset)
  if (!doc) return {line: 1, column: 1}
  const tokens = ptr === '' ? [] : ptr.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
  let node: Node | null | undefined = doc.contents as Node | null
  let best = node?.range ? pos(node.range[0]) : {line: 1, column: 1}
  for (let i = 0; i < tokens.length; i++) {
    while (node && isAlias(node)) node = node.resolve(doc) as Node | undefined
    const token = tokens[i]
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === token)
      if (!pair) return best
      const keyNode = pair.key as Node
      if (key && i === tokens.length - 1 && keyNode.range) return pos(keyNode.range[0])
      node = pair.value as Node | null
      best = node?.range ? pos(node.range[0]) : keyNode.range ? pos(keyNode.range[0]) : best
    } else if (isSeq(node)) {
      const item = node.items[Number(token)] as Node | undefined
      if (!item) return best
      node = item
      if (node.range) best = pos(node.range[0])
    } else {
      return best
    }
  }
  return best
}

function lineStartsOf(text: string): number[] {
  const starts = [0]
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}

/** 1-based line and column of a character offset. */
export function linePosition(source: Pick<YamlSource, 'lineStarts'>, offset: number): Position {
  const starts = source.lineStarts
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid] <= offset) lo = mid
    else hi = mid - 1
  }
  return {line: lo + 1, column: offset - starts[lo] + 1}
}
