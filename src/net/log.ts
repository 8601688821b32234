// CTDB-style logging to stderr, with the level taken from CTDB_DEBUGLEVEL like CTDB's helpers:
// a name (ERROR, WARNING, NOTICE, INFO, DEBUG) or a number (Samba debug levels: 0 error,
// 1 warning, 3 notice, 5 info, 10 debug). Unset or unparsable means ERROR.

export const LOG_LEVELS = {ERROR: 0, WARNING: 1, NOTICE: 3, INFO: 5, DEBUG: 10} as const
export type LogLevelName = keyof typeof LOG_LEVELS

export interface Logger {
  level: number
  enabled(level: LogLevelName): boolean
  log(level: LogLevelName, message: string): void
}

export function parseDebugLevel(text: string | undefined): number {
  if (text === undefined) return LOG_LEVELS.ERROR
  const t = text.trim().toUpperCase()
  if (t in LOG_LEVELS) return LOG_LEVELS[t as LogLevelName]
  if (t === 'ERR') return LOG_LEVELS.ERROR
  if (/^[0-9]+$/.test(t)) return Number(t)
  return LOG_LEVELS.ERROR
}

export function createLogger(level: number, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  return {
    level,
    enabled: (name) => LOG_LEVELS[name] <= level,
    log(name, message) {
      if (LOG_LEVELS[name] <= level) write(`${message}\n`)
    },
  }
}

export const silentLogger: Logger = {level: -1, enabled: () => false, log: () => undefined}
