// Input of `db ptrans`: one record per line, `"KEY" "VALUE"`, both quoted; inside the quotes
// \XX (two hex digits) is a byte, so the output of `db dump` can be fed back. An empty VALUE
// deletes the key. Blank lines are skipped. Any bad line fails the whole input (nothing applied).

export interface PtransRecord {
  key: Buffer
  /** undefined = delete. */
  value?: Buffer
}

export class PtransError extends Error {}

function quoted(line: string, at: number, lineNo: number): {bytes: Buffer; end: number} {
  if (line[at] !== '"') throw new PtransError(`line ${lineNo}: expected a quoted string at column ${at + 1}`)
  const out: number[] = []
  let i = at + 1
  for (; i < line.length && line[i] !== '"'; i++) {
    if (line[i] === '\\') {
      const hex = line.slice(i + 1, i + 3)
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new PtransError(`line ${lineNo}: bad escape at column ${i + 1} (use \\XX with two hex digits)`)
      out.push(parseInt(hex, 16))
      i += 2
    } else {
      const ch = String.fromCodePoint(line.codePointAt(i)!)
      out.push(...Buffer.from(ch, 'utf8'))
      i += ch.length - 1
    }
  }
  if (i >= line.length) throw new PtransError(`line ${lineNo}: unterminated quoted string starting at column ${at + 1}`)
  return {bytes: Buffer.from(out), end: i + 1}
}

export function parsePtrans(text: string): PtransRecord[] {
  const records: PtransRecord[] = []
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '')
    const lineNo = index + 1
    if (line.trim() === '') return
    let at = line.length - line.trimStart().length
    const key = quoted(line, at, lineNo)
    at = key.end
    if (!/\s/.test(line[at] ?? '')) throw new PtransError(`line ${lineNo}: expected whitespace and a quoted value after the key`)
    while (/\s/.test(line[at] ?? '')) at++
    const value = quoted(line, at, lineNo)
    if (line.slice(value.end).trim() !== '') throw new PtransError(`line ${lineNo}: unexpected text after the value at column ${value.end + 1}`)
    if (key.bytes.length === 0) throw new PtransError(`line ${lineNo}: the key is empty`)
    records.push(value.bytes.length === 0 ? {key: key.bytes} : {key: key.bytes, value: value.bytes})
  })
  return records
}
