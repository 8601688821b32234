// Packet capture through one long-lived `tcpdump` process writing a pcap stream to a pipe.
//
// Why: CTDB's killtcp captures on an AF_PACKET socket, which sees frames in BOTH directions on
// every interface and before netfilter. raw-socket can only open AF_INET/AF_INET6 sockets, and a
// raw IPPROTO_TCP socket only gets copies of segments delivered to this host after the INPUT
// hook: it never sees the replies this host's own TCP stack sends (needed whenever the end to
// reset is local, e.g. `ctdb_killtcp` lines `PEER LOCAL`), nor anything an `iptables ... -j DROP`
// on the released address discards. libpcap (what CTDB itself uses on platforms without
// AF_PACKET) through tcpdump gives the same view as CTDB's socket: `-i any`, snap length 100,
// immediate mode, one pcap record per frame. It is one process per run, not one per packet.
import {spawn, type ChildProcess} from 'node:child_process'
import {parseLinkFrame, type CapturedSegment} from './packet.js'

/** Splits a pcap byte stream (any byte order, µs or ns timestamps) into frames. */
export class PcapStreamParser {
  private pending: Buffer | undefined
  private littleEndian = true
  private linktype = -1
  private snaplen = 0

  constructor(private readonly onFrame: (linktype: number, buf: Buffer, start: number, end: number) => void) {}

  get linkType(): number {
    return this.linktype
  }

  push(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk
    this.pending = undefined
    let off = 0
    if (this.linktype < 0) {
      if (buf.length < 24) {
        this.pending = Buffer.from(buf)
        return
      }
      const magicLE = buf.readUInt32LE(0)
      if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) this.littleEndian = true
      else if (buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d) this.littleEndian = false
      else throw new Error(`not a pcap stream (magic 0x${buf.readUInt32BE(0).toString(16)})`)
      this.snaplen = this.littleEndian ? buf.readUInt32LE(16) : buf.readUInt32BE(16)
      this.linktype = (this.littleEndian ? buf.readUInt32LE(20) : buf.readUInt32BE(20)) & 0x0fffffff
      off = 24
    }
    while (buf.length - off >= 16) {
      const incl = this.littleEndian ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8)
      if (incl > Math.max(this.snaplen, 262144)) throw new Error(`corrupt pcap stream (record of ${incl} bytes)`)
      if (buf.length - off < 16 + incl) break
      this.onFrame(this.linktype, buf, off + 16, off + 16 + incl)
      off += 16 + incl
    }
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off))
  }
}

export interface TcpdumpCaptureOptions {
  /** BPF filter expression. */
  filter: string
  /** Interface to capture on (default `any`, like CTDB's unbound AF_PACKET socket). */
  device?: string
  snaplen?: number
  /** tcpdump executable (default `tcpdump` on PATH). */
  command?: string
  onSegment: (s: CapturedSegment) => void
  /** Called once if tcpdump dies or its stream cannot be parsed after start-up. */
  onError?: (e: Error) => void
  /** Milliseconds to wait for tcpdump to report that it is listening. */
  startTimeoutMs?: number
}

export interface TcpdumpCapture {
  readonly pid: number
  /** Number of frames read so far. */
  readonly frames: number
  close(): Promise<void>
}

export class CaptureStartError extends Error {}

/** Starts tcpdump and resolves once it is capturing (it says "listening on" on stderr). */
export function startTcpdumpCapture(options: TcpdumpCaptureOptions): Promise<TcpdumpCapture> {
  const args = ['-i', options.device ?? 'any', '-n', '-p', '-s', String(options.snaplen ?? 100), '-U', '--immediate-mode', '-B', '8192', '-w', '-', options.filter]
  return new Promise((resolve, reject) => {
    let child: ChildProcess
    try {
      child = spawn(options.command ?? 'tcpdump', args, {stdio: ['ignore', 'pipe', 'pipe']})
    } catch (e) {
      reject(new CaptureStartError(`cannot run tcpdump: ${(e as Error).message}`))
      return
    }
    let started = false
    let closing = false
    let stderr = ''
    let frames = 0
    let failed = false
    // If this process exits without close() (a signal, an uncaught error), do not leave tcpdump behind.
    const killOnExit = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    }
    process.on('exit', killOnExit)
    const exited = new Promise<void>((res) =>
      child.once('close', () => {
        process.off('exit', killOnExit)
        res()
      }),
    )
    const fail = (e: Error) => {
      if (failed) return
      failed = true
      if (!started) {
        clearTimeout(timer)
        if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL')
        reject(e)
      } else if (!closing) {
        options.onError?.(e)
      }
    }
    const parser = new PcapStreamParser((linktype, buf, start, end) => {
      frames++
      const seg = parseLinkFrame(linktype, buf, start, end)
      if (seg) options.onSegment(seg)
    })
    const timer = setTimeout(() => fail(new CaptureStartError(`tcpdump did not start within ${options.startTimeoutMs ?? 5000} ms${stderr ? `: ${stderr.trim()}` : ''}`)), options.startTimeoutMs ?? 5000)
    child.once('error', (e: NodeJS.ErrnoException) => {
      fail(new CaptureStartError(e.code === 'ENOENT' ? 'tcpdump is not installed (Debian package tcpdump)' : `cannot run tcpdump: ${e.message}`))
    })
    child.stdout!.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk)
      } catch (e) {
        fail(e as Error)
      }
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (text: string) => {
      stderr += text
      if (!started && /listening on /.test(stderr)) {
        started = true
        clearTimeout(timer)
        resolve({
          pid: child.pid!,
          get frames() {
            return frames
          },
          async close() {
            closing = true
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
            await exited
          },
        })
      }
    })
    child.once('exit', (code, signal) => {
      if (!closing) fail(new CaptureStartError(`tcpdump exited (${signal ?? `status ${code}`})${stderr ? `: ${stderr.trim().split('\n').slice(-2).join(' ')}` : ''}`))
    })
  })
}
