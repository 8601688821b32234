#!/usr/bin/env node
// `npm run demo`: validates the examples, then shows a live cluster failing over.
// As root: 3 nodes in network namespaces with real addresses, a client fetching from them, a
// node killed, its address answering from a survivor. Without root: the same cluster on
// loopback with the fake address driver (nothing touches the host), and a node banned instead.
import {execFileSync, spawnSync} from 'node:child_process'
import {readdirSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = (args, env = {}) => spawnSync(process.execPath, ['bin/run.js', ...args], {cwd: root, encoding: 'utf8', env: {...process.env, ...env}})
const show = (title, args, env) => {
  console.log(`\n$ ctdbctl ${args.join(' ')}${title ? `   # ${title}` : ''}`)
  const r = cli(args, env)
  process.stdout.write(r.stdout + r.stderr)
  return r
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
// CTDBCTL_DEMO_SANDBOX=1 runs the loopback demo even as root.
const asRoot = process.getuid?.() === 0 && !process.env.CTDBCTL_DEMO_SANDBOX

console.log('== ctdbctl demo ==')
const deps = spawnSync('bash', ['scripts/system-deps.sh', ...(asRoot ? [] : ['--check'])], {cwd: root, stdio: 'inherit'})
if (deps.status !== 0 && asRoot) process.exit(1)

const examples = readdirSync(`${root}/examples`).filter((f) => f.endsWith('.yaml')).map((f) => `examples/${f}`)
show('every example is a valid cluster file', ['validate', '--no-local-checks', ...examples])
show('what a change would do', ['plan', 'examples/change/after.yaml', '--against', 'examples/change/before.yaml', '--no-color'])

if (asRoot) await liveDemo()
else await sandboxDemo()

async function liveDemo() {
  const {createLabCluster} = await import('../dist/dev/lab-cluster.js')
  console.log('\n== A 3-node cluster in network namespaces (nats-server + daemon per node, real addresses) ==')
  const lc = await createLabCluster({nodes: 3, publicAddresses: 3, name: 'demo'})
  const env = lc.cliEnv
  try {
    await until(async () => Object.values(await lc.probe()).every(Boolean), 60_000)
    show('', ['status'], env)
    show('', ['ip', 'list', '--all'], env)
    console.log('\nThe client namespace fetches from every public address:', JSON.stringify(await lc.probe()))
    const state = JSON.parse(cli(['status', '--json'], env).stdout)
    // A node that is not the leader: CTDB's common case (a dead leader adds a lock lease expiry).
    const {pnn: victim, address} = state.publicAddresses.find((a) => a.pnn !== state.leader)
    console.log(`\nKilling node ${victim} (daemon kill -9, links down); it serves ${state.publicAddresses.filter((a) => a.pnn === victim).map((a) => a.address).join(', ')}`)
    const killed = Date.now()
    process.kill(lc.daemons[victim].pid, 'SIGKILL')
    for (const tag of ['p', 'u']) execFileSync('ip', ['-n', lc.lab.hub, 'link', 'set', `${lc.lab.prefix}${victim}${tag}o`, 'down'])
    await until(async () => {
      const answers = await lc.probe()
      return Object.values(answers).every((n) => n && n !== `n${victim}`)
    }, 30_000)
    console.log(`${address} and the others answer again from the survivors after ${Date.now() - killed} ms:`, JSON.stringify(await lc.probe()))
    show('', ['status'], env)
    show('', ['ip', 'list', '--all'], env)
  } finally {
    await lc.destroy()
    console.log('\nLab cluster stopped and its namespaces removed.')
  }
}

async function sandboxDemo() {
  console.log('\nNot running as root: network namespaces and real addresses need root, so this demo runs the')
  console.log('cluster on loopback with the fake address driver (it records what it would configure).')
  const {sandboxUp, sandboxDown, sandboxNats} = await import('../dist/dev/sandbox.js')
  const {waitForCluster} = await import('../dist/dev/wait.js')
  const dir = `${root}/.ctdbctl-demo`
  const sb = await sandboxUp({nodes: 3, dir, name: 'demo', auth: true})
  const env = {CTDBCTL_CONFIG: sb.configFile, CTDBCTL_NATS_CREDS: sandboxNats(sb).credentials}
  try {
    await waitForCluster(sb, 30_000)
    const base = cli(['show'], env).stdout
    const withAddresses = base.replace('  nodes:\n', '  publicAddresses:\n' + [10, 11, 12].map((i) => `    - {address: 192.0.2.${i}/24, interfaces: [eth1]}`).join('\n') + '\n  nodes:\n')
    writeFileSync(`${dir}/with-addresses.yaml`, withAddresses)
    show('publish three public addresses', ['apply', `${dir}/with-addresses.yaml`, '--yes', '-m', 'demo', '--no-color'], env)
    show('', ['ip', 'list', '--all'], env)
    show('ban node 1 for a minute', ['node', 'ban', '1', '--for', '60s'], env)
    await sleep(1500)
    show('node 1\'s address moved', ['ip', 'list', '--all'], env)
    show('', ['status'], env)
  } finally {
    await sandboxDown(dir)
    console.log('\nSandbox stopped and removed.')
  }
}

async function until(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await check()) return
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error('the demo cluster did not reach the expected state in time')
    await sleep(100)
  }
}
