// Driving test/system/killtcp-peer.mjs processes: JSON lines out, commands in.
import type {ChildProcess} from 'node:child_process'
import path from 'node:path'
import readline from 'node:readline'
import {REPO_ROOT} from './cli.js'

export const PEER = path.join(REPO_ROOT, 'test/system/killtcp-peer.mjs')

export interface PeerReport {
  open: number
  closed: number
  errors: Record<string, number>
}

/** Epoch ms of the first and last error of each code. */
export interface PeerTimes {
  firstErrorAt: Record<string, number>
  lastErrorAt: Record<string, number>
}

export class Peer {
  private queue: string[] = []
  private waiter?: (line: string) => void
  constructor(readonly child: ChildProcess) {
    readline.createInterface({input: child.stdout!}).on('line', (l) => {
      if (this.waiter) {
        const w = this.waiter
        this.waiter = undefined
        w(l)
      } else this.queue.push(l)
    })
  }
  next(timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const line = this.queue.shift()
    if (line !== undefined) return Promise.resolve(JSON.parse(line))
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`peer ${this.child.pid} said nothing for ${timeoutMs} ms`)), timeoutMs)
      this.waiter = (l) => {
        clearTimeout(t)
        resolve(JSON.parse(l))
      }
    })
  }
  async report(): Promise<PeerReport> {
    this.child.stdin!.write('report\n')
    return (await this.next()) as unknown as PeerReport
  }
  async times(): Promise<PeerTimes> {
    this.child.stdin!.write('times\n')
    return (await this.next()) as unknown as PeerTimes
  }
}
