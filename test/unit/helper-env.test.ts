// Helpers run without a shell and with a minimal environment: nothing from the daemon's own
// environment (where an operator may keep CTDBCTL_NATS_CREDS or a token) reaches them.
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pino from 'pino'
import type {ClusterConfig} from '../../src/config/model.js'
import {createLeaderLock} from '../../src/daemon/mutex/leader-lock-factory.js'
import {execRunner} from '../../src/reconciler/natgw/command.js'
import {defaultRunner} from '../../src/reconciler/drivers/iproute2-driver.js'
import {waitFor} from '../helpers/wait.js'

const ALLOWED = ['LANG', 'LC_ALL', 'PATH']
const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-env-'))
const before = process.env.CTDBCTL_TEST_SECRET

beforeAll(() => {
  process.env.CTDBCTL_TEST_SECRET = 'do-not-leak'
})

afterAll(() => {
  if (before === undefined) delete process.env.CTDBCTL_TEST_SECRET
  else process.env.CTDBCTL_TEST_SECRET = before
  rmSync(dir, {recursive: true, force: true})
})

const keysOf = (envOutput: string) => envOutput.split('\n').filter(Boolean).map((l) => l.split('=')[0]).sort()

test('the NAT gateway / LVS command runner and the iproute2 driver pass only PATH and the C locale', async () => {
  const a = await execRunner(['env'])
  expect(a.code).toBe(0)
  expect(keysOf(a.stdout)).toEqual(ALLOWED)
  const b = await defaultRunner(['env'], 5000)
  expect(keysOf(b.stdout)).toEqual(ALLOWED)
  expect(a.stdout).not.toContain('do-not-leak')
})

test('a cluster lock helper gets the minimal environment, and config values arrive as argv', async () => {
  const out = join(dir, 'env.json')
  const script = join(dir, 'helper.mjs')
  // Records its environment and argv, reports contention ('1') and exits.
  writeFileSync(script, "import {writeFileSync} from 'node:fs'\nwriteFileSync(process.argv[2], JSON.stringify({env: process.env, argv: process.argv.slice(3)}))\nprocess.stdout.write('1')\n")
  const config = {name: 'c', nats: {servers: ['nats://127.0.0.1:1']}, clusterLock: {type: 'helper', command: [process.execPath, script, out, '$(touch /tmp/x); `id`']}} as unknown as ClusterConfig
  const lock = createLeaderLock({config, pnn: 0, cliPath: '/nonexistent', logger: pino({level: 'silent'}), onChange: () => undefined})!
  try {
    lock.start()
    await waitFor('the helper to run', () => (existsSync(out) ? true : undefined), 10_000)
    const seen = JSON.parse(readFileSync(out, 'utf8')) as {env: Record<string, string>; argv: string[]}
    expect(Object.keys(seen.env).sort()).toEqual(ALLOWED)
    expect(seen.argv).toEqual(['$(touch /tmp/x); `id`']) // one argument, never interpreted by a shell
  } finally {
    await lock.stop()
  }
})
