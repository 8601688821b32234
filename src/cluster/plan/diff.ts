// The unified diff of the two YAML texts shown by `ctdbctl plan --diff`. Pure.

import {createTwoFilesPatch} from 'diff'

/** `diff -u` of the two texts; an empty base diffs against /dev/null; identical texts give ''. */
export function unifiedDiff(base: {source: string; text: string} | null, next: {source: string; text: string}): string {
  if (base !== null && base.text === next.text) return ''
  return createTwoFilesPatch(base?.source ?? '/dev/null', next.source, base?.text ?? '', next.text, undefined, undefined, {context: 3})
}
