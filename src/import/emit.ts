// The imported cluster as commented YAML (yaml's Document API). Pure.
import {Document, isMap, isPair, isScalar, isSeq, type Node, type Pair} from 'yaml'
import type {RawCluster} from '../config/raw.js'
import type {Notes} from './context.js'

/** Collections written in flow style (`*` matches any key or index). */
const FLOW: string[][] = [
  ['spec', 'nats', 'servers'],
  ['spec', 'nodes', '*'],
  ['spec', 'clusterLock', 'command'],
  ['spec', 'publicAddresses', '*'],
  ['spec', 'ipAllocation'],
  ['spec', 'natgw', '*', 'staticRoutes'],
  ['spec', 'natgw', '*', 'nodes'],
  ['spec', 'lvs', '*', 'nodes'],
  ['spec', 'services', '*', 'monitor'],
  ['spec', 'services', '*', 'start'],
  ['spec', 'services', '*', 'stop'],
]

export function emitYaml(raw: RawCluster, notes: Notes, header: string[]): string {
  const doc = new Document(raw)
  doc.commentBefore = header.map((l) => ` ${l}`.trimEnd()).join('\n')
  visit(doc.contents as Node, [], (node, path, pair) => {
    if ((isMap(node) || isSeq(node)) && FLOW.some((f) => matches(f, path))) node.flow = true
    const key = path.join('/')
    const before = notes.before.get(key)
    if (before) {
      const text = before.map((l) => ` ${l}`).join('\n')
      if (pair && isScalar(pair.key)) pair.key.commentBefore = text
      else node.commentBefore = text
    }
    const after = notes.after.get(key)
    if (after) node.comment = ` ${after}`
  })
  return doc.toString({lineWidth: 0, flowCollectionPadding: false})
}

function matches(pattern: string[], path: (string | number)[]): boolean {
  return pattern.length === path.length && pattern.every((p, i) => p === '*' || p === String(path[i]))
}

function visit(node: Node, path: (string | number)[], fn: (node: Node, path: (string | number)[], pair?: Pair) => void, pair?: Pair): void {
  fn(node, path, pair)
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && item.value && typeof item.value === 'object') {
        visit(item.value as Node, [...path, String(item.key.value)], fn, item as Pair)
      }
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (item && typeof item === 'object') visit(item as Node, [...path, i], fn)
    })
  }
}
