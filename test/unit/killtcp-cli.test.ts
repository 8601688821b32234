// `ctdbctl killtcp` input handling and exit statuses that need no raw sockets (the packets
// themselves are exercised by test/system/killtcp.test.ts in network namespaces).
import {runKillTcpCommand} from '../../src/net/killtcp-command.js'
import {createLogger, parseDebugLevel} from '../../src/net/log.js'
import {requireBuilt, runCli} from '../helpers/cli.js'

async function run(argv: string[], stdinText = '') {
  let stdout = ''
  let stderr = ''
  const code = await runKillTcpCommand({argv, capture: 'auto', bin: 'ctdbctl', stdinText, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s)})
  return {code, stdout, stderr}
}

describe('killtcp command (no packets sent)', () => {
  test('one argument or three: usage on stdout, status 1 (as ctdb_killtcp)', async () => {
    for (const argv of [['10.0.0.1:1'], ['a', 'b', 'c']]) {
      const r = await run(argv)
      expect(r).toEqual({code: 1, stdout: 'usage: ctdbctl killtcp [--interface <interface>] [ <srcip:port> <dstip:port> ]\n', stderr: ''})
    }
  })

  test("a bad argument: Bad IP:port '<arg>', status 255", async () => {
    expect(await run(['10.0.0.1:1', '10.0.0.2'])).toEqual({code: 255, stdout: '', stderr: "Bad IP:port '10.0.0.2'\n"})
    expect((await run(['10.0.0.1:1', '[fd00::1]:2'])).code).toBe(255)
  })

  test('empty input: nothing to do, status 0 without opening any socket', async () => {
    expect(await run([], '')).toEqual({code: 0, stdout: '', stderr: ''})
    expect(await run([], '# only a comment\n\n')).toEqual({code: 0, stdout: '', stderr: ''})
  })

  test('bad lines are reported with their line numbers, status 255', async () => {
    const r = await run([], '# c\nnonsense\n10.0.0.1:1 10.0.0.2:x\n')
    expect(r.code).toBe(255)
    expect(r.stderr).toBe(
      [
        'Bad connection on line 2 (expected two addresses: SRC:PORT DST:PORT): nonsense',
        "Bad connection on line 3 (invalid port 'x' in '10.0.0.2:x'): 10.0.0.1:1 10.0.0.2:x",
        'Unable to parse 2 lines of connections (Invalid argument); processing the other 0',
        '',
      ].join('\n'),
    )
  })

  test('CTDB_DEBUGLEVEL names and numbers', () => {
    expect(parseDebugLevel(undefined)).toBe(0)
    expect(parseDebugLevel('NOTICE')).toBe(3)
    expect(parseDebugLevel('debug')).toBe(10)
    expect(parseDebugLevel('ERR')).toBe(0)
    expect(parseDebugLevel('4')).toBe(4)
    expect(parseDebugLevel('bogus')).toBe(0)
    const lines: string[] = []
    const log = createLogger(parseDebugLevel('INFO'), (l) => lines.push(l))
    log.log('INFO', 'shown')
    log.log('DEBUG', 'hidden')
    expect(lines).toEqual(['shown\n'])
    expect(log.enabled('NOTICE')).toBe(true)
    expect(log.enabled('DEBUG')).toBe(false)
  })
})

describe('killtcp through the built CLI', () => {
  beforeAll(() => requireBuilt('dist/commands/killtcp.js'))

  test('piped standard input is read as connections, not as arguments', async () => {
    const r = await runCli(['killtcp', '--interface', 'eth1'], {input: 'junk line\n'})
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('Bad connection on line 1 (')
    expect(r.code).toBe(255)
  })

  test('usage and --help', async () => {
    const usage = await runCli(['killtcp', '10.0.0.1:1'])
    expect(usage.code).toBe(1)
    expect(usage.stdout).toMatch(/^usage: ctdbctl killtcp/)
    const help = await runCli(['killtcp', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--capture')
  })
})
