// The daemon's socket flags: path, mode and group from the command line; the socket goes away
// with a clean shutdown. A real nats-server and a real daemon process.
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CtdbClient} from '../../src/client/ctdb-client.js'
import {startNatsServers, stopNatsServers, stopProcess, type NatsServerHandle} from '../../src/dev/nats-servers.js'
import {clusterYaml} from '../../src/dev/sandbox.js'
import {BIN, requireBuilt} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'

let dir: string
let nats: NatsServerHandle[] = []
let daemon: ChildProcess | undefined

beforeAll(async () => {
  requireBuilt('dist/daemon/client-socket/surface.js')
  dir = mkdtempSync(join(tmpdir(), 'ctdbctl-dsock-'))
  nats = await startNatsServers({count: 1, dir, clusterName: 'dsock-nats'})
})

afterAll(async () => {
  if (daemon?.pid) await stopProcess(daemon.pid, daemon)
  await stopNatsServers(nats)
  rmSync(dir, {recursive: true, force: true})
}, 30_000)

test('--socket, --socket-mode and --socket-group shape the socket; SIGTERM removes it', async () => {
  const config = join(dir, 'cluster.yaml')
  writeFileSync(config, clusterYaml('dsock', 1, nats.map((s) => s.url)))
  mkdirSync(join(dir, 'run'), {mode: 0o755})
  const socket = join(dir, 'run', 'c.sock')
  daemon = spawn(process.execPath, [BIN, 'daemon', '--config', config, '--node', 'n0', '--data-dir', join(dir, 'n0'), '--ip-driver', 'fake', '--socket', socket, '--socket-mode', '0640', '--socket-group', '4242'], {stdio: 'ignore'})
  await waitFor('the socket', () => (existsSync(socket) ? true : undefined), 30_000, 100)
  const st = statSync(socket)
  expect(st.mode & 0o777).toBe(0o640)
  expect(st.gid).toBe(4242)
  const c = await CtdbClient.connect(socket)
  expect(c.pnn).toBe(0)
  await c.close()
  const exited = new Promise((r) => daemon!.once('exit', r))
  daemon.kill('SIGTERM')
  await exited
  daemon = undefined
  expect(existsSync(socket)).toBe(false)
}, 60_000)
