// Durations in the config language: a whole number followed by ms, s, m or h ("500ms", "5s", "2m").

const UNIT_MS = {ms: 1, s: 1000, m: 60_000, h: 3_600_000} as const
const DURATION = /^(\d{1,9})(ms|s|m|h)$/

export function isDuration(text: string): boolean {
  return DURATION.test(text)
}

/** Milliseconds of a duration string; throws on anything else. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text)
  if (!m) throw new Error(`invalid duration "${text}": use a whole number followed by ms, s, m or h (e.g. 500ms, 5s, 2m)`)
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
}

/** The shortest exact spelling of a number of milliseconds ("1500ms", "5s", "2m"). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}
