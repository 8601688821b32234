// Flags and connection plumbing of the commands that talk to this node's daemon over its local
// client socket (`db …`, `message …`).
import {Flags, type Command} from '@oclif/core'
import {CtdbClient} from '../client/ctdb-client.js'

export const localFlags = {
  socket: Flags.string({summary: 'The daemon\'s client socket (default: $CTDBCTL_SOCKET, then node.yaml, then /var/lib/ctdbctl/ctdbd.socket).', env: 'CTDBCTL_SOCKET', helpValue: 'PATH'}),
}

export const encodingFlags = {
  hex: Flags.boolean({summary: 'Keys and values are hexadecimal.', exclusive: ['base64']}),
  base64: Flags.boolean({summary: 'Keys and values are base64.', exclusive: ['hex']}),
}

export type Encoding = 'utf8' | 'hex' | 'base64'

export function encodingOf(flags: {hex?: boolean; base64?: boolean}): Encoding {
  return flags.hex ? 'hex' : flags.base64 ? 'base64' : 'utf8'
}

/** Decodes a key or value given on the command line; invalid hex/base64 is an error. */
export function decodeArg(text: string, encoding: Encoding, what: string): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8')
  const valid = encoding === 'hex' ? /^([0-9a-fA-F]{2})*$/ : /^[A-Za-z0-9+/]*={0,2}$/
  if (!valid.test(text) || (encoding === 'base64' && text.length % 4 !== 0)) throw new Error(`${what} "${text}" is not valid ${encoding}`)
  return Buffer.from(text, encoding)
}

/** Runs `fn` with a connected client; failures end the command with exit 1 and the message. */
export async function withLocal<T>(cmd: Command, flags: {socket?: string}, fn: (client: CtdbClient) => Promise<T>): Promise<T> {
  let client: CtdbClient | undefined
  try {
    client = await CtdbClient.connect(flags.socket)
    return await fn(client)
  } catch (e) {
    if ((e as {oclif?: unknown}).oclif !== undefined || !(e instanceof Error)) throw e
    process.stderr.write(`Error: ${e.message}\n`)
    return cmd.exit(1)
  } finally {
    await client?.close().catch(() => undefined)
  }
}
