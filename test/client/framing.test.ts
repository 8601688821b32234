import fc from 'fast-check'
import {decodeBody, encodeFrame, FrameError, FrameReader} from '../../src/daemon/client-socket/framing.js'

describe('client socket framing', () => {
  test('a frame round-trips with its binary parts, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({maxLength: 8}).filter((k) => k !== 'p' && k !== '__proto__'), fc.jsonValue({maxDepth: 2})),
        fc.array(fc.uint8Array({maxLength: 300}), {maxLength: 4}),
        fc.array(fc.integer({min: 1, max: 50}), {minLength: 1, maxLength: 20}),
        (header, parts, cuts) => {
          const buffers = parts.map((p) => Buffer.from(p))
          const bytes = Buffer.concat([encodeFrame(header, buffers), encodeFrame({second: true})])
          const reader = new FrameReader()
          const frames = []
          let at = 0
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length]
            frames.push(...reader.push(bytes.subarray(at, at + n)))
            at += n
          }
          expect(frames).toHaveLength(2)
          expect(frames[0].header).toEqual(JSON.parse(JSON.stringify(header)))
          expect(frames[0].parts.map((b) => [...b])).toEqual(buffers.map((b) => [...b]))
          expect(frames[1].header).toEqual({second: true})
        },
      ),
    )
  })

  test('arbitrary bytes never crash or hang the reader: frames or a FrameError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({maxLength: 64}), {maxLength: 20}), (chunks) => {
        const reader = new FrameReader(1024)
        try {
          for (const c of chunks) reader.push(Buffer.from(c))
        } catch (e) {
          expect(e).toBeInstanceOf(FrameError)
        }
      }),
      {numRuns: 2000},
    )
  })

  test('corrupted valid frames are rejected or parsed, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 40}), fc.nat(), fc.integer({min: 0, max: 255}), (data, pos, value) => {
        const frame = encodeFrame({id: 1, op: 'fetch', db: 'x'}, [Buffer.from(data)])
        const body = Buffer.from(frame.subarray(4))
        body[pos % body.length] = value
        try {
          const f = decodeBody(body)
          expect(typeof f.header).toBe('object')
        } catch (e) {
          expect(e).toBeInstanceOf(FrameError)
        }
      }),
      {numRuns: 2000},
    )
  })

  test('malformed frames give clear errors', () => {
    const body = (json: string, tail = Buffer.alloc(0)) => {
      const h = Buffer.from(json)
      const len = Buffer.alloc(4)
      len.writeUInt32BE(h.length)
      return Buffer.concat([len, h, tail])
    }
    expect(() => decodeBody(Buffer.from([0, 0]))).toThrow(/shorter than its header length/)
    expect(() => decodeBody(body('{nope'))).toThrow(/header is not JSON/)
    expect(() => decodeBody(body('[1]'))).toThrow(/not a JSON object/)
    expect(() => decodeBody(body('{"p":[-1]}'))).toThrow(/list of part lengths/)
    expect(() => decodeBody(body('{"p":[5]}', Buffer.from('abc')))).toThrow(/longer than the frame/)
    expect(() => decodeBody(body('{}', Buffer.from('extra')))).toThrow(/5 bytes after the last binary part/)
  })

  test('an oversized length prefix is refused before any body arrives', () => {
    const reader = new FrameReader(100)
    const prefix = Buffer.alloc(4)
    prefix.writeUInt32BE(101)
    expect(() => reader.push(prefix)).toThrow(/101 bytes exceeds the limit of 100/)
  })
})
