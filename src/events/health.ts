// Node health from monitor results (core-spec §0, §6.4; helpers-spec §5.5 for the counters).
// Each monitored unit (the event scripts' monitor event, each service) is healthy when:
// - it has passed at least once (a node is UNHEALTHY from start until its first good monitor),
// - a unit that never became healthy fails at once, without counting (CTDB's never-healthy rule),
// - after that, only `failures` consecutive failures make it unhealthy; one pass clears it.
// The node is healthy when every unit is; a node with nothing to monitor is healthy.

export interface MonitorUnit {
  name: string
  /** Consecutive failures before the unit is unhealthy (1 for event scripts, as CTDB). */
  failures: number
}

interface UnitState {
  failures: number
  everHealthy: boolean
  consecutive: number
}

export type MonitorOutcome = 'ok' | 'failed' | 'cancelled'

export class HealthTracker {
  private units = new Map<string, UnitState>()

  constructor(units: readonly MonitorUnit[] = []) {
    this.setUnits(units)
  }

  /** A config change: new units start unhealthy, kept units keep their history. */
  setUnits(units: readonly MonitorUnit[]): void {
    const next = new Map<string, UnitState>()
    for (const u of units) {
      const old = this.units.get(u.name)
      next.set(u.name, old ? {...old, failures: u.failures} : {failures: u.failures, everHealthy: false, consecutive: 0})
    }
    this.units = next
  }

  record(name: string, outcome: MonitorOutcome): void {
    const u = this.units.get(name)
    if (!u || outcome === 'cancelled') return
    if (outcome === 'ok') {
      u.everHealthy = true
      u.consecutive = 0
    } else {
      u.consecutive++
    }
  }

  unitHealthy(name: string): boolean {
    const u = this.units.get(name)
    if (!u) return true
    if (!u.everHealthy) return false
    return u.consecutive < u.failures
  }

  healthy(): boolean {
    return [...this.units.keys()].every((n) => this.unitHealthy(n))
  }

  /** Names of the units keeping the node unhealthy, for the log. */
  unhealthyUnits(): string[] {
    return [...this.units.keys()].filter((n) => !this.unitHealthy(n))
  }
}
