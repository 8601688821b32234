// The write-back buffer of volatile record puts (src/db/write-back.ts), alone with a writer we
// control, and inside a real LocalDb (classic-level on disk).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {LocalDb} from '../../src/db/store.js'
import {WriteBack, type BatchWriter} from '../../src/db/write-back.js'

const b = (s: string) => Buffer.from(s)

function recordingWriter() {
  const batches: string[][] = []
  let fail: string | undefined
  let gate: Promise<void> = Promise.resolve()
  const write: BatchWriter = async (ops) => {
    await gate
    if (fail) throw new Error(fail)
    batches.push(ops.map((o) => (o.type === 'put' ? `${o.key.toString()}=${o.value.toString()}` : `${o.key.toString()} deleted`)))
  }
  return {
    write,
    batches,
    failWith: (m: string | undefined) => (fail = m),
    hold: () => {
      let open!: () => void
      gate = new Promise((r) => (open = r))
      return open
    },
  }
}

test('a put is readable at once and reaches the writer in one batch with the puts beside it', async () => {
  const w = recordingWriter()
  const wb = new WriteBack(w.write)
  wb.put(b('a'), b('1'))
  wb.put(b('b'), b('2'))
  wb.put(b('a'), b('3'))
  expect(wb.get(b('a'))?.toString()).toBe('3')
  expect(w.batches).toEqual([])
  await wb.settled()
  expect(w.batches).toEqual([['a=3', 'b=2']])
  // Written records stay readable from memory.
  expect(wb.get(b('b'))?.toString()).toBe('2')
  wb.forgetWritten()
  expect(wb.get(b('b'))).toBeUndefined()
})

test('a key stored again while its batch is in flight keeps the newer value for the next batch', async () => {
  const w = recordingWriter()
  const wb = new WriteBack(w.write)
  const open = w.hold()
  wb.put(b('k'), b('old'))
  await new Promise((r) => setTimeout(r, 10)) // the batch with "old" is in flight, held
  wb.put(b('k'), b('new'))
  expect(wb.get(b('k'))?.toString()).toBe('new')
  open()
  await wb.settled()
  expect(w.batches).toEqual([['k=old'], ['k=new']])
  expect(wb.get(b('k'))?.toString()).toBe('new')
})

test('a failed batch keeps its puts readable, settled() rejects, and a later batch writes them', async () => {
  const w = recordingWriter()
  const wb = new WriteBack(w.write)
  w.failWith('disk full')
  wb.put(b('x'), b('1'))
  await expect(wb.settled()).rejects.toThrow(/writing 1 records to LevelDB failed: disk full/)
  expect(wb.get(b('x'))?.toString()).toBe('1')
  w.failWith(undefined)
  await wb.settled()
  expect(w.batches).toEqual([['x=1']])
})

test('in a LocalDb: reads see puts before they are written, page() and digest() after', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-wb-'))
  const db = await LocalDb.open('wb.tdb', 'volatile', dir)
  try {
    for (let i = 0; i < 2500; i++) db.put(b(`k${String(i).padStart(5, '0')}`), b(`v${i}`), false)
    expect(db.getSync(b('k00007'))?.toString()).toBe('v7')
    expect((await db.get(b('k02499')))?.toString()).toBe('v2499')
    const page = await db.page(undefined, 1 << 30)
    expect(page.count).toBe(2500)
    expect(db.records).toBe(2500)
    db.put(b('k00001'), b('changed'), true)
    const before = await db.digest()
    await db.clear()
    expect(db.getSync(b('k00001'))).toBeUndefined()
    expect(before).not.toBe(await db.digest())
  } finally {
    await db.close()
    rmSync(dir, {recursive: true, force: true})
  }
})

test('a delete hides the written value at once and reaches the writer as a delete', async () => {
  const w = recordingWriter()
  const batches: string[][] = []
  const wb = new WriteBack(async (ops) => {
    await w.write(ops.filter((o) => o.type === 'put'))
    batches.push(ops.map((o) => `${o.type}:${o.key.toString()}`))
  })
  wb.put(b('d'), b('1'))
  await wb.settled()
  expect(wb.get(b('d'))?.toString()).toBe('1')
  wb.put(b('d'), null)
  expect(wb.get(b('d'))).toBeNull()
  await wb.settled()
  expect(batches).toEqual([['put:d'], ['del:d']])
  expect(wb.get(b('d'))).toBeUndefined()
})
