// Which fault comes next, from the seeded randomness only (so `--seed` replays a run): rounds
// that are each a shuffle of every kind, a target node and a hold time, and, with `overlap`,
// sometimes a second fault on another node held at the same time.
import type {Rng} from './prng.js'

export interface Step<F> {
  fault: F
  target: number
  holdMs: number
  /** A second fault injected after the first and healed before it. */
  also?: {fault: F; target: number}
}

export class FaultSchedule<F> {
  private round: F[] = []

  constructor(
    private readonly rng: Rng,
    private readonly faults: readonly F[],
    private readonly nodes: number,
    private readonly holdMs: [number, number],
    /** Probability (0–1) that a step overlaps a second fault; 0 draws nothing extra, so older seeds replay unchanged. */
    private readonly overlap = 0,
  ) {}

  next(): Step<F> {
    if (this.round.length === 0) this.round = this.rng.shuffle(this.faults)
    const fault = this.round.shift()!
    const target = this.rng.int(0, this.nodes - 1)
    const holdMs = this.rng.int(...this.holdMs)
    if (this.overlap <= 0 || this.rng.next() >= this.overlap) return {fault, target, holdMs}
    return {fault, target, holdMs, also: {fault: this.rng.pick(this.faults), target: (target + this.rng.int(1, this.nodes - 1)) % this.nodes}}
  }
}
