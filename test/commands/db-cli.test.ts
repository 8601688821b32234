// The `db` commands as users run them (built CLI, child process) against a client socket served
// in this process by the socket server over the in-memory DatabaseApi double (test/client).
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pino} from 'pino'
import {ClientSocketServer} from '../../src/daemon/client-socket/server.js'
import {parsePtrans} from '../../src/cli/ptrans.js'
import {requireBuilt, runCli} from '../helpers/cli.js'
import {MemoryDb} from '../client/memory-db.js'

let dir: string
let db: MemoryDb
let server: ClientSocketServer
const cli = (args: string[], input?: string) => runCli(args, {env: {CTDBCTL_SOCKET: join(dir, 's.sock')}, ...(input === undefined ? {} : {input})})
const contents = (name: string) => [...db.dbs.get(name)!.records].map(([k, r]) => [Buffer.from(k, 'hex').toString(), r.data.toString()]).sort()

beforeAll(() => requireBuilt('dist/commands/db/ptrans.js'))

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctdbctl-dbcli-'))
  db = new MemoryDb()
  server = new ClientSocketServer({path: join(dir, 's.sock'), pnn: 0, db, log: pino({level: 'silent'})})
  await server.start()
})

afterEach(async () => {
  await server.stop()
  rmSync(dir, {recursive: true, force: true})
})

test('attach, put, get, list, status, dump, delete, wipe', async () => {
  expect((await cli(['db', 'attach', 'secrets.tdb', 'persistent'])).stdout).toMatch(/^Attached secrets.tdb \(persistent, dbid 0x00000001\)/)
  expect((await cli(['db', 'put', 'secrets.tdb', 'k1', 'v1'])).code).toBe(0)
  expect((await cli(['db', 'put', '--hex', 'secrets.tdb', '6b32', '00ff'])).code).toBe(0)
  expect(await cli(['db', 'get', 'secrets.tdb', 'k1'])).toMatchObject({code: 0, stdout: 'v1'})
  expect(await cli(['db', 'get', '--hex', 'secrets.tdb', '6b32'])).toMatchObject({code: 0, stdout: '00ff\n'})
  expect(await cli(['db', 'get', 'secrets.tdb', 'nope'])).toMatchObject({code: 1, stderr: expect.stringMatching(/no record for key "nope"/)})
  expect((await cli(['db', 'list'])).stdout).toBe('Number of databases:1\ndbid:0x00000001 name:secrets.tdb path:/memory/secrets.tdb PERSISTENT\n')
  expect((await cli(['db', 'status', 'secrets.tdb'])).stdout).toMatch(/PERSISTENT: yes\nREPLICATED: no\nHEALTH: OK\nSEQNUM: 2\nRECORDS: 2/)
  const dump = await cli(['db', 'dump', 'secrets.tdb'])
  expect(dump.stdout).toBe('key(2) = "k1"\ndmaster: 0\nrsn: 1\nflags: 0x00000000\ndata(2) = "v1"\n\nkey(2) = "k2"\ndmaster: 0\nrsn: 1\nflags: 0x00000000\ndata(2) = "\\00\\FF"\n\nDumped 2 records\n')
  expect((await cli(['db', 'delete', 'secrets.tdb', 'k1'])).code).toBe(0)
  expect(contents('secrets.tdb')).toEqual([['k2', '\u0000\ufffd']])
  expect((await cli(['db', 'wipe', 'secrets.tdb'])).stdout).toBe('Database secrets.tdb wiped\n')
  expect(contents('secrets.tdb')).toEqual([])
  expect(await cli(['db', 'get', 'missing.tdb', 'k'])).toMatchObject({code: 1, stderr: expect.stringMatching(/no database named "missing.tdb"/)})
  expect(await cli(['db', 'put', '--hex', 'secrets.tdb', 'zz', '00'])).toMatchObject({code: 1, stderr: expect.stringMatching(/key "zz" is not valid hex/)})
})

test('a volatile put goes through the record lock', async () => {
  await cli(['db', 'attach', 'locking.tdb'])
  await cli(['db', 'put', 'locking.tdb', 'k', 'one'])
  await cli(['db', 'put', 'locking.tdb', 'k', 'two'])
  expect(db.dbs.get('locking.tdb')!.records.get(Buffer.from('k').toString('hex'))).toMatchObject({header: {rsn: 2}, data: Buffer.from('two')})
})

test('backup and restore round-trip; a corrupt or truncated backup is refused and changes nothing', async () => {
  await cli(['db', 'attach', 'reg.tdb', 'persistent'])
  await cli(['db', 'ptrans', 'reg.tdb'], '"a" "1"\n"b" "\\00binary\\FF"\n"c" "3"\n')
  const file = join(dir, 'reg.backup')
  expect((await cli(['db', 'backup', 'reg.tdb', file])).stdout).toBe(`Database backed up to ${file} (3 records)\n`)
  const before = contents('reg.tdb')
  await cli(['db', 'ptrans', 'reg.tdb'], '"a" "changed"\n"d" "new"\n')
  expect((await cli(['db', 'restore', file])).stdout).toBe('Restored 3 records into reg.tdb\n')
  expect(contents('reg.tdb')).toEqual(before)

  await cli(['db', 'put', 'reg.tdb', 'a', 'after-restore'])
  const good = readFileSync(file, 'utf8')
  const flipped = good.replace('"rsn":1', '"rsn":7')
  writeFileSync(join(dir, 'corrupt'), flipped)
  writeFileSync(join(dir, 'truncated'), good.slice(0, good.length - 30))
  for (const [name, why] of [['corrupt', /checksum mismatch: the file is corrupt/], ['truncated', /checksum line is missing/]] as const) {
    const r = await cli(['db', 'restore', join(dir, name)])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(why)
    expect(r.stderr).toMatch(/nothing was restored/)
  }
  expect(contents('reg.tdb')).toContainEqual(['a', 'after-restore'])
  const into = await cli(['db', 'restore', file, 'copy.tdb'])
  expect(into.code).toBe(0)
  expect(contents('copy.tdb')).toEqual(before)
})

test('ptrans applies all lines in one transaction, deletes on an empty value, and applies nothing on a bad line', async () => {
  await cli(['db', 'attach', 'p.tdb', 'persistent'])
  expect((await cli(['db', 'ptrans', 'p.tdb'], '"x" "1"\n\n  "y"   "two words"\n"z" "\\41\\42"\n')).stdout).toBe('3 records applied to p.tdb in one transaction\n')
  expect(contents('p.tdb')).toEqual([['x', '1'], ['y', 'two words'], ['z', 'AB']])
  expect(db.dbs.get('p.tdb')!.seqnum).toBe(1)
  const bad = await cli(['db', 'ptrans', 'p.tdb'], '"x" "changed"\n"y" ""\n"w" unquoted\n')
  expect(bad).toMatchObject({code: 1, stderr: 'Error: line 3: expected a quoted string at column 5; nothing was applied\n'})
  expect(contents('p.tdb')).toEqual([['x', '1'], ['y', 'two words'], ['z', 'AB']])
  expect((await cli(['db', 'ptrans', 'p.tdb'], '"x" "changed"\n"y" ""\n')).code).toBe(0)
  expect(contents('p.tdb')).toEqual([['x', 'changed'], ['z', 'AB']])
  await cli(['db', 'attach', 'v.tdb'])
  expect(await cli(['db', 'ptrans', 'v.tdb'], '"x" "1"\n')).toMatchObject({code: 1, stderr: expect.stringMatching(/v.tdb is volatile/)})
})

test('ptrans parser errors name the line', () => {
  expect(() => parsePtrans('"a" "1"\n"b" "2')).toThrow(/line 2: unterminated quoted string starting at column 5/)
  expect(() => parsePtrans('"a" "\\4"')).toThrow(/line 1: bad escape at column 6/)
  expect(() => parsePtrans('"a""1"')).toThrow(/line 1: expected whitespace/)
  expect(() => parsePtrans('"a" "1" x')).toThrow(/line 1: unexpected text after the value/)
  expect(() => parsePtrans('"" "1"')).toThrow(/line 1: the key is empty/)
  expect(parsePtrans('"é\\0A" "😀"')).toEqual([{key: Buffer.from('é\n'), value: Buffer.from('😀')}])
})
