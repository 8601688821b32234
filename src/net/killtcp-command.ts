// `ctdbctl killtcp`: input handling and exit statuses of CTDB's ctdb_killtcp around the engine.
//   usage error (not 0 or 2 arguments)   usage on stdout, status 1
//   bad argument address                 "Bad IP:port '<arg>'", status 255
//   bad stdin lines                      each reported with its line number; the good lines are
//                                        still processed (CTDB stops at the first); status 255
//   capture cannot be opened             "Failed to open capture socket ...", status 255
//   otherwise                            status 0, even if some connections were not reset
import {AddressError, parseSockAddr} from './addr.js'
import {parseConnectionLines, type KillConnection} from './connections.js'
import {KillTcpCaptureError, killTcp, type CaptureMode} from './killtcp.js'
import {createLogger, parseDebugLevel} from './log.js'
import {RawSocketError} from './raw.js'

export interface KillTcpCommandInput {
  argv: string[]
  iface?: string
  capture: CaptureMode
  bin: string
  /** Input text instead of reading standard input (tests). */
  stdinText?: string
  stdout?: (s: string) => void
  stderr?: (s: string) => void
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function runKillTcpCommand(input: KillTcpCommandInput): Promise<number> {
  const out = input.stdout ?? ((s: string) => process.stdout.write(s))
  const err = input.stderr ?? ((s: string) => process.stderr.write(s))
  const logger = createLogger(parseDebugLevel(process.env.CTDB_DEBUGLEVEL), err)

  if (input.argv.length !== 0 && input.argv.length !== 2) {
    out(`usage: ${input.bin} killtcp [--interface <interface>] [ <srcip:port> <dstip:port> ]\n`)
    return 1
  }

  let connections: KillConnection[]
  let badLines = 0
  if (input.argv.length === 2) {
    const parsed = []
    for (const arg of input.argv) {
      try {
        parsed.push(parseSockAddr(arg))
      } catch (e) {
        if (!(e instanceof AddressError)) throw e
        err(`Bad IP:port '${arg}'\n`)
        return 255
      }
    }
    if (parsed[0].family !== parsed[1].family) {
      err(`Bad IP:port '${input.argv[1]}' (address family differs from '${input.argv[0]}')\n`)
      return 255
    }
    connections = [{impersonate: parsed[0], reset: parsed[1]}]
  } else {
    const text = input.stdinText ?? (await readStdin())
    const parsed = parseConnectionLines(text)
    for (const e of parsed.errors) err(`Bad connection on line ${e.line} (${e.reason}): ${e.text}\n`)
    badLines = parsed.errors.length
    if (badLines > 0) {
      err(`Unable to parse ${badLines} line${badLines === 1 ? '' : 's'} of connections (Invalid argument); processing the other ${parsed.connections.length}\n`)
    }
    connections = parsed.connections
  }

  // On SIGINT/SIGTERM exit through process.exit so that the capture process is stopped too.
  const onSignal = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143)
  if (connections.length > 0) {
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }
  try {
    await killTcp(connections, {iface: input.iface, capture: input.capture, logger})
  } catch (e) {
    if (e instanceof KillTcpCaptureError || e instanceof RawSocketError) {
      err(`${e.message}\n`)
      err('Failed to kill connections (Input/output error)\n')
      return 255
    }
    throw e
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return badLines > 0 ? 255 : 0
}
