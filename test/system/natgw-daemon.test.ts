// The NAT gateway driven by the daemons (issue 9 acceptance): a lab cluster whose config has a
// natgw group; an "outside" namespace on the public bridge that only the gateway address can
// reach. The daemons choose the gateway from node flags and reconcile after every takeover run.
import {execFile, type ChildProcess} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {createLabCluster, type LabCluster} from '../../src/dev/lab-cluster.js'
import {stopProcess} from '../../src/dev/nats-servers.js'
import {nsExec, nsSpawn} from '../../src/dev/netlab.js'
import {IptablesDriver, natgwTag} from '../../src/reconciler/drivers/iptables-driver.js'
import {runCli} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'

const run = promisify(execFile)
const ip = (...args: string[]) => run('ip', args).then((r) => r.stdout)
const SERVICE_ADDRESS = '203.0.113.10'
const SERVICE_PORT = 8080

let lc: LabCluster
let outsideNs: string
let gatewayAddress: string
const children: ChildProcess[] = []

/** Connects from a namespace to the outside service; `OK <address the outside saw>` or `ERR <code>`. */
async function connectFrom(pnn: number): Promise<string> {
  const script = `const net=require('net');const done=(m)=>{console.log(m);process.exit(0)};setTimeout(()=>done('ERR ETIMEDOUT'),1000);
let buf='';const s=net.connect({host:'${SERVICE_ADDRESS}',port:${SERVICE_PORT}});s.on('data',(d)=>buf+=d);s.on('end',()=>done('OK '+buf.trim()));s.on('error',(e)=>done('ERR '+e.code))`
  return (await nsExec(lc.lab.nodes[pnn].ns, [process.execPath, '-e', script])).trim()
}

async function setLinks(pnn: number, up: boolean): Promise<void> {
  for (const tag of ['p', 'u']) await run('ip', ['-n', lc.lab.hub, 'link', 'set', `${lc.lab.prefix}${pnn}${tag}o`, up ? 'up' : 'down'])
}

const natgwLeader = async () => (await runCli(['natgw', 'leader', '-T', '3'], {env: lc.cliEnv})).stdout.trim()
const ourRules = (pnn: number) => new IptablesDriver({netns: lc.lab.nodes[pnn].ns}).list(natgwTag('gw'))
const eth1 = async (pnn: number): Promise<string[]> => [...((await nsExec(lc.lab.nodes[pnn].ns, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).match(/inet \S+/g) ?? [])]

beforeAll(async () => {
  // The subnet is only known once the lab exists, so the group is appended to the config after.
  lc = await createLabCluster({nodes: 3, publicAddresses: 0, name: 'natgw'})
  const pub = lc.lab.publicNet.replace(/\.0\/24$/, '')
  gatewayAddress = `${pub}.100`
  const outsideAddress = `${pub}.250`
  const group = `  natgw:\n    - {name: gw, publicAddress: ${gatewayAddress}/24, publicInterface: eth1, privateNetwork: ${lc.lab.privateNet}, defaultGateway: ${outsideAddress}, nodes: [n0, n1, n2]}\n`
  const {appendFileSync} = await import('node:fs')
  appendFileSync(lc.configFile, group)
  const applied = await waitFor('the group to be applied', async () => {
    const r = await runCli(['apply', lc.configFile, '--yes', '--wait', '20'], {env: lc.cliEnv})
    return r.code === 0 ? r : undefined
  }, 60_000, 1000)
  expect(applied.code).toBe(0)

  outsideNs = `${lc.lab.prefix}-out`
  await ip('netns', 'add', outsideNs)
  await ip('link', 'add', `${lc.lab.prefix}xi`, 'type', 'veth', 'peer', 'name', `${lc.lab.prefix}xo`)
  await ip('link', 'set', `${lc.lab.prefix}xo`, 'netns', lc.lab.hub)
  await ip('-n', lc.lab.hub, 'link', 'set', `${lc.lab.prefix}xo`, 'master', 'brpub')
  await ip('-n', lc.lab.hub, 'link', 'set', `${lc.lab.prefix}xo`, 'up')
  await ip('link', 'set', `${lc.lab.prefix}xi`, 'netns', outsideNs)
  await ip('-n', outsideNs, 'link', 'set', `${lc.lab.prefix}xi`, 'name', 'eth0')
  await ip('-n', outsideNs, 'addr', 'add', `${outsideAddress}/24`, 'dev', 'eth0')
  await ip('-n', outsideNs, 'link', 'set', 'eth0', 'up')
  await ip('-n', outsideNs, 'link', 'set', 'lo', 'up')
  await ip('-n', outsideNs, 'addr', 'add', `${SERVICE_ADDRESS}/32`, 'dev', 'lo')
  const server = nsSpawn(outsideNs, [process.execPath, '-e', `require('net').createServer((c)=>c.end(c.remoteAddress+'\\n')).listen(${SERVICE_PORT},'${SERVICE_ADDRESS}')`], {stdio: 'ignore'})
  children.push(server)
}, 120_000)

afterAll(async () => {
  for (const c of children) await stopProcess(c.pid!, c, 'SIGKILL')
  if (outsideNs) await ip('netns', 'del', outsideNs).catch(() => undefined)
  await lc?.destroy()
}, 30_000)

test('the daemons make node 0 the gateway: followers reach the outside through it', async () => {
  expect(await waitFor('natgw leader 0', async () => ((await natgwLeader()).startsWith('0 ') ? true : undefined), 20_000, 500)).toBe(true)
  expect(await waitFor('follower 1 to get out', async () => ((await connectFrom(1)) === `OK ${gatewayAddress}` ? true : undefined), 20_000, 200)).toBe(true)
  expect(await connectFrom(2)).toBe(`OK ${gatewayAddress}`)
  expect(await eth1(0)).toEqual([`inet ${gatewayAddress}/24`])
  expect((await ourRules(1)).length).toBe(0)
}, 60_000)

test('kill the gateway: node 1 takes over and new connections from a follower succeed; the old gateway returns as a follower without its rules', async () => {
  process.kill(lc.daemons[0].pid, 'SIGKILL')
  await setLinks(0, false)
  await waitFor('node 1 to be the gateway', async () => ((await connectFrom(2)) === `OK ${gatewayAddress}` && (await eth1(1)).includes(`inet ${gatewayAddress}/24`) ? true : undefined), 30_000, 200)
  expect((await ourRules(1)).map((r) => `${r.table} ${r.chain}`).sort()).toEqual(['filter INPUT', 'nat POSTROUTING'])

  // While it was down an operator disabled it (DISABLED is kept on disk), so it returns as a
  // follower: as in CTDB, a healthy node 0 would otherwise be the gateway again (pnn order).
  writeFileSync(join(lc.dir, 'n0', 'node-state.json'), JSON.stringify({disabled: true}))
  await setLinks(0, true)
  lc.startDaemon(0)
  await waitFor('node 0 to return as a follower without the gateway setup', async () => {
    const rules = await ourRules(0)
    const addresses = await eth1(0)
    return rules.length === 0 && addresses.length === 0 && (await connectFrom(0)) === `OK ${gatewayAddress}` ? true : undefined
  }, 40_000, 500)
  expect((await natgwLeader()).startsWith('1 ')).toBe(true)
}, 120_000)
