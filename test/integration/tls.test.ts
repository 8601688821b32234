// TLS between clients and a nats-server with the include `creds generate --tls-cert/--tls-key`
// writes: the CLI's client and the lock helper (a spawned process given file paths, never
// secrets) connect with the CA and their nkey seed; a client without the CA is refused.
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ClusterClient} from '../../src/client/cluster-client.js'
import {startNatsServers, stopNatsServers, type NatsServerHandle} from '../../src/dev/nats-servers.js'
import {BIN, runCli} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-tls-'))
const f = (name: string) => join(dir, name)
let servers: NatsServerHandle[] = []

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, {stdio: 'pipe', cwd: dir})
  } catch (e) {
    const err = e as NodeJS.ErrnoException & {stderr?: Buffer}
    if (err.code === 'ENOENT') throw new Error('openssl is missing: install the Debian package "openssl" to run the TLS tests')
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString() ?? err.message}`)
  }
}

beforeAll(async () => {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=ctdbctl test CA'])
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
  // nats.js sends no server name for an IP-literal URL, and node then checks the certificate
  // against "localhost" (docs/operations.md): the test certificate names both.
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext'])
  writeFileSync(f('cluster.yaml'), 'apiVersion: ctdbctl/v1\nkind: Cluster\nmetadata:\n  name: tlsc\nspec:\n  nats:\n    servers: [tls://127.0.0.1:4222]\n  nodes:\n    - {pnn: 0, name: n0, address: 127.0.0.1}\n')
  const r = await runCli(['creds', 'generate', '--config', f('cluster.yaml'), '--out', f('creds'), '--tls-cert', f('server.pem'), '--tls-key', f('server.key')])
  if (r.code !== 0) throw new Error(`creds generate failed: ${r.stderr}`)
  servers = await startNatsServers({count: 1, dir, extraArgs: () => ['--config', f('creds/nats-auth-tlsc.conf')]})
}, 60_000)

afterAll(async () => {
  await stopNatsServers(servers)
  rmSync(dir, {recursive: true, force: true})
}, 30_000)

const url = () => `tls://127.0.0.1:${servers[0].clientPort}`

test('the generated include makes the server require TLS', () => {
  expect(readFileSync(f('creds/nats-auth-tlsc.conf'), 'utf8')).toContain(`tls {"cert_file":"${f('server.pem')}","key_file":"${f('server.key')}"}`)
})

test('routes between servers use TLS: two servers with the include form a cluster, one without it cannot join', async () => {
  const creds = await runCli(['creds', 'generate', '--config', f('cluster.yaml'), '--out', f('creds-routes'), '--tls-cert', f('server.pem'), '--tls-key', f('server.key'), '--tls-ca', f('ca.pem')])
  expect(creds.stderr).toBe('')
  const include = f('creds-routes/nats-auth-tlsc.conf')
  expect(readFileSync(include, 'utf8')).toContain(`cluster {"tls": {"cert_file":"${f('server.pem')}","key_file":"${f('server.key')}","ca_file":"${f('ca.pem')}","verify":true}}`)
  // startNatsServers waits until JetStream has a meta leader: only possible over working routes.
  const pair = await startNatsServers({count: 2, dir: f('routes-ok'), clusterName: 'tlsroutes', extraArgs: () => ['--config', include]})
  await stopNatsServers(pair)
  await expect(startNatsServers({count: 2, dir: f('routes-mixed'), clusterName: 'tlsmixed', readyTimeoutMs: 5000, extraArgs: (i) => (i === 0 ? ['--config', include] : [])})).rejects.toThrow(/not healthy/)
}, 60_000)

test('a client with the CA and the operator seed connects over TLS; one without the CA is refused', async () => {
  const client = await ClusterClient.connect({cluster: 'tlsc', nats: {servers: [url()], credentials: f('creds/operator.nk'), tls: {ca: f('ca.pem')}}}, 5000)
  try {
    expect(client.connection.info?.tls_required).toBe(true)
  } finally {
    await client.close()
  }
  await expect(ClusterClient.connect({cluster: 'tlsc', nats: {servers: [url()], credentials: f('creds/operator.nk')}}, 3000)).rejects.toThrow(/cannot reach the NATS servers of cluster tlsc.*(certificate|self.signed|TLS)/i)
}, 30_000)

test('the nats-kv lock helper takes the lease over TLS with a node identity (paths by argv)', async () => {
  const child = spawn(process.execPath, [BIN, 'mutex', 'nats-kv', '--servers', url(), '--cluster', 'tlsc', '--holder', 'pnn:0', '--ttl', '3s', '--creds', f('creds/n0.nk'), '--tls-ca', f('ca.pem')], {stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  try {
    const status = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no status within 20 s; stderr: ${stderr}`)), 20_000)
      child.stdout.once('data', (d: Buffer) => {
        clearTimeout(timer)
        resolve(d.toString())
      })
      child.once('exit', (code) => reject(new Error(`helper exited ${code}; stderr: ${stderr}`)))
    })
    expect(status).toBe('0')
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)))
  }
  expect(stderr).not.toContain(readFileSync(f('creds/n0.nk'), 'utf8').trim())
}, 40_000)
