// Reads this host's established TCP connections from given local addresses with `ss` (argv
// only, no shell), as 10.interface does: `ss -tnH state established ( src [A] or src [B] )`.
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {parseSsEstablished, type EstablishedConnection} from './connections.js'

const run = promisify(execFile)

/** The ss filter selecting connections whose local address is one of `addresses`. */
export function ssSourceFilter(addresses: readonly string[]): string[] {
  return ['(', ...addresses.flatMap((a, i) => [...(i > 0 ? ['or'] : []), 'src', `[${a}]`]), ')']
}

export async function listEstablished(addresses: readonly string[], command = 'ss'): Promise<EstablishedConnection[]> {
  if (addresses.length === 0) return []
  const argv = ['-tnH', 'state', 'established', ...ssSourceFilter(addresses)]
  try {
    const {stdout} = await run(command, argv, {maxBuffer: 256 * 1024 * 1024, timeout: 10_000})
    return parseSsEstablished(stdout)
  } catch (e) {
    const err = e as NodeJS.ErrnoException & {stderr?: string}
    if (err.code === 'ENOENT') throw new Error(`the "${command}" command is missing: install the Debian package iproute2`)
    throw new Error(`${command} ${argv.join(' ')} failed: ${err.stderr?.trim() || err.message}`)
  }
}
