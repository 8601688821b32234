// CTDB's CTDB_NFS_CALLOUT interface as 60.nfs drives it (helpers-spec §5.2, §5.3): which callout
// ops an event runs, in order, given the ops the callout registered.

/** `register` output: one op per line; empty output registers every op (`ALL`). */
export function parseRegistered(output: string): Set<string> {
  const ops = output.split('\n').map((l) => l.trim()).filter((l) => l.length > 0)
  return new Set(ops.length === 0 ? ['ALL'] : ops)
}

export interface CalloutStep {
  op: string
  args: string[]
  /** monitor-list-shares: its output lists directories that must exist. */
  listsShares?: boolean
}

/** The ops an event runs; the first failing op fails the event and stops it. */
export function calloutSteps(event: string, args: readonly string[], registered: ReadonlySet<string>, skipShareCheck = false): CalloutStep[] {
  let steps: CalloutStep[]
  switch (event) {
    case 'startup':
    case 'shutdown':
    case 'startipreallocate':
      steps = [{op: event, args: []}]
      break
    case 'takeip':
    case 'releaseip':
      steps = [{op: event, args: [...args]}]
      break
    case 'monitor':
      steps = [{op: 'monitor-pre', args: []}, ...(skipShareCheck ? [] : [{op: 'monitor-list-shares', args: [], listsShares: true}]), {op: 'monitor-post', args: []}]
      break
    default:
      steps = []
  }
  return steps.filter((s) => registered.has('ALL') || registered.has(s.op))
}

/** Directories named by monitor-list-shares, as 60.nfs reads them (lines with `%` are skipped). */
export function sharesToCheck(output: string): string[] {
  return output.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.includes('%'))
}
