// Raw classic-level put/get per second: the reference the database benchmarks are compared with
// (bench/db.js, bench/client.js). 100,000 sequential awaited puts, then gets, of 32-byte values.
import {performance} from 'node:perf_hooks'
import {join} from 'node:path'
import {ClassicLevel} from 'classic-level'

export async function rawLevel(dir, records = 100_000) {
  const db = new ClassicLevel(join(dir, 'raw-level'), {keyEncoding: 'buffer', valueEncoding: 'buffer'})
  await db.open()
  const key = (i) => Buffer.from(`key-${i}`)
  const value = Buffer.alloc(32, 1)
  let t0 = performance.now()
  for (let i = 0; i < records; i++) await db.put(key(i), value)
  const putPerSec = records / ((performance.now() - t0) / 1000)
  t0 = performance.now()
  for (let i = 0; i < records; i++) await db.get(key(i))
  const getPerSec = records / ((performance.now() - t0) / 1000)
  await db.close()
  return {records, putPerSec: Math.round(putPerSec), getPerSec: Math.round(getPerSec)}
}
