// Event scripts during real address moves (iproute2 in network namespaces): a node whose service
// monitor fails becomes UNHEALTHY, its address moves; releaseip runs on the old holder and takeip
// on the new one with CTDB's arguments (IFACE ADDRESS MASKBITS), after the reconciler removed or
// added the address (the scripts see the interface state), and ipreallocated follows on every node.
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {ClusterClient} from '../../src/client/cluster-client.js'
import {createLabCluster, type LabCluster} from '../../src/dev/lab-cluster.js'
import {requireBuilt} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'

const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-events-sys-'))
const scripts = join(dir, 'events')
let lc: LabCluster
let client: ClusterClient

function writeScript(path: string, body: string): void {
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
}

const eventsOf = (node: string): string[] => {
  try {
    return readFileSync(join(dir, `${node}.events`), 'utf8').trim().split('\n')
  } catch {
    return []
  }
}

const holders = async () => Object.fromEntries((await client.status()).publicAddresses.map((a) => [a.address, a.pnn]))

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (network namespaces)')
  requireBuilt('dist/daemon/event-service.js')
  mkdirSync(scripts)
  // Records takeip/releaseip with whether the address is on the interface when the script runs.
  writeScript(join(scripts, '10.record.script'), `case "$1" in
takeip|releaseip)
	if ip -o addr show dev "$2" | grep -q " $3/$4 "; then state=present; else state=absent; fi
	echo "$* $state" >> ${dir}/$CTDBCTL_NODE.events ;;
ipreallocated) echo "$1" >> ${dir}/$CTDBCTL_NODE.events ;;
esac
exit 0`)
  writeScript(join(dir, 'check'), 'test ! -e "$1/$CTDBCTL_NODE.down"')
  lc = await createLabCluster({
    nodes: 2,
    publicAddresses: 2,
    name: 'evsys',
    extraSpec: `  eventScripts: ${scripts}\n  services:\n    - name: web\n      monitor: {command: [${dir}/check, '${dir}'], interval: 1s, timeout: 1s, failures: 1}\n  tunables: {monitorInterval: 1s}\n`,
  })
  client = await waitFor('a client', () => lc.client(), 20_000, 200)
  await waitFor('both nodes healthy, one address each', async () => {
    const s = await client.status()
    const balanced = s.nodes.every((n) => n.flags.length === 0) && [0, 1].every((p) => s.publicAddresses.filter((a) => a.pnn === p).length === 1)
    // The initial run's events are queued behind the run: wait until both nodes recorded them.
    const recorded = ['n0', 'n1'].every((n) => eventsOf(n).some((e) => e.startsWith('takeip')) && eventsOf(n).at(-1) === 'ipreallocated')
    return balanced && recorded ? true : undefined
  }, 40_000, 200)
}, 90_000)

afterAll(async () => {
  await client?.close().catch(() => undefined)
  await lc?.destroy()
  rmSync(dir, {recursive: true, force: true})
}, 30_000)

test('UNHEALTHY node: releaseip on it, takeip on the other, ipreallocated on both; failback reverses it', async () => {
  const h = await holders()
  const moved = lc.publicAddresses.find((a) => h[a] === 1)!
  const mark = {n0: eventsOf('n0').length, n1: eventsOf('n1').length}

  writeFileSync(join(dir, 'n1.down'), '')
  await waitFor(`${moved} on n0 and answered by n0`, async () => ((await holders())[moved] === 0 && (await lc.probe())[moved] === 'n0' ? true : undefined), 20_000, 200)
  await waitFor('the events of the move', () => (eventsOf('n0').slice(mark.n0).includes('ipreallocated') && eventsOf('n1').slice(mark.n1).includes('ipreallocated') ? true : undefined), 10_000)
  const n1 = eventsOf('n1').slice(mark.n1)
  const n0 = eventsOf('n0').slice(mark.n0)
  expect(n1.filter((e) => e !== 'ipreallocated')).toEqual([`releaseip eth1 ${moved} 24 absent`])
  expect(n0.filter((e) => e !== 'ipreallocated')).toEqual([`takeip eth1 ${moved} 24 present`])
  expect(n1.indexOf('ipreallocated')).toBeGreaterThan(n1.indexOf(`releaseip eth1 ${moved} 24 absent`))
  expect(n0.indexOf('ipreallocated')).toBeGreaterThan(n0.indexOf(`takeip eth1 ${moved} 24 present`))

  const back = {n0: eventsOf('n0').length, n1: eventsOf('n1').length}
  rmSync(join(dir, 'n1.down'))
  // Failback: LCP2 gives n1 one address again (not necessarily the same one).
  const returned = await waitFor('an address back on n1 (failback) and answered by it', async () => {
    const h = await holders()
    const a = lc.publicAddresses.find((x) => h[x] === 1)
    return a && (await lc.probe())[a] === 'n1' ? a : undefined
  }, 20_000, 200)
  await waitFor('the events of the failback', () => (eventsOf('n1').slice(back.n1).includes(`takeip eth1 ${returned} 24 present`) ? true : undefined), 10_000)
  expect(eventsOf('n1').slice(back.n1).filter((e) => e !== 'ipreallocated')).toEqual([`takeip eth1 ${returned} 24 present`])
  expect(eventsOf('n0').slice(back.n0).filter((e) => e !== 'ipreallocated')).toEqual([`releaseip eth1 ${returned} 24 absent`])
}, 90_000)
