// What fault injectors and invariant checkers share: the lab cluster, the randomness, the
// record, and which process exits are expected (the ones the run caused itself).
import type {ChildProcess} from 'node:child_process'
import type {LabCluster} from '../lab-cluster.js'
import type {Rng} from './prng.js'
import type {Recorder} from './recorder.js'

export interface ChaosContext {
  lc: LabCluster
  rng: Rng
  rec: Recorder
  /** Directory of the service monitor's marker files (`<node>.down` fails its monitor). */
  monitorDir: string
  metricsPort: number
  /** pids the run killed on purpose: their exit is not a crash. */
  expectedExits: Set<number>
  /** Watches a (re)started process: an exit not in expectedExits is a crash. */
  watch(label: string, child: ChildProcess, log?: string): void
  /** pnn → when another node was last seen counting it inactive (DISCONNECTED, BANNED, STOPPED). */
  lastSeenInactive: Map<number, number>
  /** Committed persistent transactions missing on some node (undefined: none), when clients run. */
  lostCommits?(): Promise<string | undefined>
}

/** One kind of fault: inject returns the heal, which undoes it. */
export interface Fault {
  kind: string
  inject(ctx: ChaosContext, target: number): Promise<() => Promise<void>>
}
