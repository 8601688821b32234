// System tests fail with a clear sentence when a tool they need is missing.
import {spawnSync} from 'node:child_process'

export function requireTool(argv: string[], pkg: string, who = 'these system tests'): void {
  const r = spawnSync(argv[0], argv.slice(1), {stdio: 'ignore'})
  if (r.error) throw new Error(`${who} need "${argv[0]}" (Debian package ${pkg}): ${r.error.message}`)
}
