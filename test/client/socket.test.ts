// The client socket server with the typed client, over a real Unix socket. The database behind
// it is the in-memory test double (memory-db.ts); the real service is exercised in test/db/.
import {execFile} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import {connect, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pino} from 'pino'
import {CtdbClient} from '../../src/client/ctdb-client.js'
import {encodeFrame, FrameReader, type Frame} from '../../src/daemon/client-socket/framing.js'
import {ClientSocketServer} from '../../src/daemon/client-socket/server.js'
import {waitFor} from '../helpers/wait.js'
import {MemoryDb} from './memory-db.js'

const log = pino({level: 'silent'})
let dir: string
let db: MemoryDb
let server: ClientSocketServer
const clients: CtdbClient[] = []
const path = () => join(dir, 'ctdbd.socket')

async function client(): Promise<CtdbClient> {
  const c = await CtdbClient.connect(path())
  clients.push(c)
  return c
}

/** A raw connection that collects the frames the server sends. */
async function raw(): Promise<{socket: Socket; frames: Frame[]; closed: Promise<void>}> {
  const socket = connect(path())
  await new Promise((r) => socket.once('connect', r))
  const frames: Frame[] = []
  const reader = new FrameReader()
  socket.on('data', (c: Buffer) => frames.push(...reader.push(c)))
  const closed = new Promise<void>((r) => socket.once('close', () => r()))
  return {socket, frames, closed}
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctdbctl-sock-'))
  db = new MemoryDb()
  server = new ClientSocketServer({path: path(), pnn: 3, db, log, maxFrame: 1 << 20, gid: 4242})
  await server.start()
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.stop()
  rmSync(dir, {recursive: true, force: true})
})

test('the socket is created 0660 with the configured group, and removed on stop', async () => {
  const st = statSync(path())
  expect(st.isSocket()).toBe(true)
  expect(st.mode & 0o777).toBe(0o660)
  expect(st.gid).toBe(4242)
  await server.stop()
  expect(() => statSync(path())).toThrow(/ENOENT/)
  server = new ClientSocketServer({path: path(), pnn: 3, db, log})
  await server.start()
})

test('a second server refuses a socket path that is in use', async () => {
  const other = new ClientSocketServer({path: path(), pnn: 3, db, log})
  await expect(other.start()).rejects.toThrow(/another process is listening/)
  expect((await client()).pnn).toBe(3)
})

test('database calls through the client', async () => {
  const c = await client()
  expect(c.pnn).toBe(3)
  expect((await c.attach('locks.tdb')).kind).toBe('volatile')
  const locked = await c.fetchLock('locks.tdb', 'k')
  expect(locked.data).toBeUndefined()
  await locked.store('v1')
  const got = await c.fetch('locks.tdb', 'k')
  expect(got.data?.toString()).toBe('v1')
  expect(got.header.rsn).toBe(1)
  await c.attach('secrets.tdb', 'persistent')
  const tx = await c.transaction('secrets.tdb')
  await tx.put('a', Buffer.from([0, 255, 10]))
  await tx.put('b', 'two')
  expect([...(await tx.get('a'))!]).toEqual([0, 255, 10])
  expect(await tx.commit()).toEqual({seqnum: 1})
  const records = []
  for await (const r of c.traverse('secrets.tdb')) records.push([r.key.toString(), [...r.data]])
  expect(records).toEqual([['a', [0, 255, 10]], ['b', [...Buffer.from('two')]]])
  await expect(c.attach('secrets.tdb', 'volatile')).rejects.toThrow(/exists as persistent/)
  await expect(c.fetch('nope', 'k')).rejects.toThrow(/no database named nope/)
  expect((await c.list()).map((d) => d.name)).toEqual(['locks.tdb', 'secrets.tdb'])
})

test('a traverse of many records streams them all', async () => {
  const c = await client()
  await c.attach('big', 'persistent')
  const tx = await c.transaction('big')
  await Promise.all(Array.from({length: 20_000}, (_, i) => tx.put(`k${i}`, `v${i}`)))
  await tx.commit()
  let n = 0
  for await (const r of c.traverse('big')) {
    expect(r.data.toString()).toBe(`v${r.key.toString().slice(1)}`)
    n++
  }
  expect(n).toBe(20_000)
  for await (const _r of c.traverse('big')) break
  expect((await c.fetch('big', 'k7')).data?.toString()).toBe('v7')
})

test('fetchLock serialises two clients: concurrent increments lose nothing', async () => {
  const [a, b] = [await client(), await client()]
  await a.attach('counter', 'volatile')
  const bump = async (c: CtdbClient, times: number) => {
    for (let i = 0; i < times; i++) {
      const r = await c.fetchLock('counter', 'n')
      await r.store(String(Number(r.data?.toString() ?? '0') + 1))
    }
  }
  await Promise.all([bump(a, 500), bump(b, 500)])
  expect((await a.fetch('counter', 'n')).data?.toString()).toBe('1000')
})

test('store and release are sent without a reply; a failed one is reported by the next call, sync and close', async () => {
  const c = await client()
  await c.attach('oneway', 'volatile')
  const replies: Frame[] = []
  const {socket, frames} = await raw()
  socket.write(encodeFrame({op: 'store', id: 1, handle: 999, noReply: true}, [Buffer.from('x')]))
  socket.write(encodeFrame({op: 'hello', id: 2}))
  await waitFor('both replies', () => (frames.length >= 2 ? true : undefined), 2000)
  replies.push(...frames.sort((x, y) => (x.header.id as number) - (y.header.id as number)))
  // The failed store is answered (with its op); a successful one would not be.
  expect(replies.map((f) => [f.header.id, f.header.ok, f.header.op])).toEqual([
    [1, false, 'store'],
    [2, true, undefined],
  ])
  socket.destroy()

  // Through the client: the store resolves at once; the daemon's refusal surfaces afterwards.
  const failing = await c.fetchLock('oneway', 'k')
  db.failStores = 'disk on fire'
  await failing.store('v')
  await expect(c.sync()).rejects.toThrow(/an earlier store failed: disk on fire/)
  await c.sync() // reported once
  const again = await c.fetchLock('oneway', 'k2')
  await again.store('v')
  // The next call once the daemon's refusal has arrived (calls before it may still succeed).
  const refused = await waitFor('a call to report the failed store', () => c.list().then(() => undefined, (e: Error) => e), 2000, 10)
  expect(refused.message).toMatch(/an earlier store failed: disk on fire/)
  const last = await c.fetchLock('oneway', 'k3')
  await last.store('v')
  clients.splice(clients.indexOf(c), 1)
  await expect(c.close()).rejects.toThrow(/an earlier store failed: disk on fire/)
  db.failStores = undefined

  // A store is seen by the next call of any client, without waiting for it.
  const [a, b] = [await client(), await client()]
  const r = await a.fetchLock('oneway', 'seen')
  await r.store('stored')
  expect((await a.fetch('oneway', 'seen')).data?.toString()).toBe('stored')
  await a.sync()
  expect((await b.fetch('oneway', 'seen')).data?.toString()).toBe('stored')
})

test('a closed connection releases its locks and cancels its transactions', async () => {
  const [a, b] = [await client(), await client()]
  await a.attach('locks', 'volatile')
  await a.fetchLock('locks', 'held')
  let got = false
  const waiting = b.fetchLock('locks', 'held').then((r) => {
    got = true
    return r.release()
  })
  await new Promise((r) => setTimeout(r, 100))
  expect(got).toBe(false)
  await a.close()
  await waiting
  expect(db.closedOwners).toHaveLength(1)
})

test('a lock granted after its client left is released at once', async () => {
  const [a, b, c] = [await client(), await client(), await client()]
  await a.attach('late', 'volatile')
  const held = await a.fetchLock('late', 'k')
  const pending = b.fetchLock('late', 'k').catch((e: Error) => e)
  await new Promise((r) => setTimeout(r, 100))
  await b.close()
  expect(await pending).toBeInstanceOf(Error)
  await waitFor('the server to see the client leave', () => (db.closedOwners.length === 1 ? true : undefined), 5000)
  await held.release()
  const third = await Promise.race([c.fetchLock('late', 'k'), new Promise((r) => setTimeout(() => r('stuck'), 5000))])
  expect(third).not.toBe('stuck')
})

test('a malformed frame closes only that connection, with an error frame', async () => {
  const good = await client()
  await good.attach('d', 'volatile')
  const bad = await raw()
  const junk = Buffer.from('\u0000\u0000\u0000\u0006\u0000\u0000\u0000\u0002{x')
  bad.socket.write(junk)
  await bad.closed
  expect(bad.frames).toEqual([{header: {id: 0, ok: false, error: expect.stringMatching(/malformed frame: header is not JSON/)}, parts: []}])
  expect((await good.fetch('d', 'k')).data).toBeUndefined()
})

test('an oversized frame closes the connection with an error frame', async () => {
  const bad = await raw()
  const prefix = Buffer.alloc(4)
  prefix.writeUInt32BE((1 << 20) + 1)
  bad.socket.write(prefix)
  await bad.closed
  expect(String(bad.frames[0]?.header.error)).toMatch(/exceeds the limit of 1048576/)
  expect((await client()).pnn).toBe(3)
})

test('requests without id or op are a protocol error; bad fields are an error reply', async () => {
  const c = await raw()
  c.socket.write(encodeFrame({id: 1, op: 'fetch', db: 'x'}))
  c.socket.write(encodeFrame({id: 2, op: 'launch'}))
  c.socket.write(encodeFrame({id: 3, op: 'send', dest: 'moon', srvid: '1'}))
  await waitFor('three replies', () => (c.frames.length === 3 ? true : undefined), 5000)
  const byId = Object.fromEntries(c.frames.map((f) => [f.header.id, f.header.error]))
  expect(byId[1]).toMatch(/binary part 0 \(key\) is missing/)
  expect(byId[2]).toMatch(/unknown op "launch"/)
  expect(byId[3]).toMatch(/messaging is not running|"dest" must be/)
  c.socket.write(encodeFrame({op: 'hello'}))
  await c.closed
  expect(String(c.frames[3].header.error)).toMatch(/positive integer "id"/)
})

function connectAs(groups: string[]): Promise<string> {
  const script = `require('net').connect(${JSON.stringify(path())}).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.log(e.code); process.exit(0) })`
  const ids = ['--reuid=nobody', '--regid=nogroup', ...(groups.length > 0 ? [`--groups=${groups.join(',')}`] : ['--clear-groups'])]
  return new Promise((resolve, reject) => {
    execFile('setpriv', [...ids, process.execPath, '-e', script], {timeout: 10_000}, (e, stdout, stderr) => (e ? reject(new Error(`setpriv failed: ${e.message} ${stderr}`)) : resolve(stdout.trim())))
  })
}

test('a user outside the socket group is refused by the file permissions; a member gets in', async () => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (it runs a client as nobody with setpriv)')
  chmodSync(dir, 0o755)
  expect(await connectAs([])).toBe('EACCES')
  expect(await connectAs(['4242'])).toBe('connected')
})
