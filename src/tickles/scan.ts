// Reads this host's established TCP connections with `ss` (argv only, no shell).
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {parseSsEstablished, type EstablishedConnection} from './connections.js'

const run = promisify(execFile)

export async function listEstablished(command = 'ss'): Promise<EstablishedConnection[]> {
  try {
    const {stdout} = await run(command, ['-tnH', 'state', 'established'], {maxBuffer: 256 * 1024 * 1024, timeout: 10_000})
    return parseSsEstablished(stdout)
  } catch (e) {
    const err = e as NodeJS.ErrnoException & {stderr?: string}
    if (err.code === 'ENOENT') throw new Error(`the "${command}" command is missing: install the Debian package iproute2`)
    throw new Error(`${command} -tnH state established failed: ${err.stderr?.trim() || err.message}`)
  }
}
