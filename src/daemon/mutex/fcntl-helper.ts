// `ctdbctl mutex fcntl FILE [RECHECK [PING_TIMEOUT]]`: CTDB's ctdb_mutex_fcntl_helper
// (helpers-spec.md §4.3) in Node, speaking the cluster mutex protocol on stdout.
//
// The lock: fs-ext's *asynchronous* fcntl(F_SETLK, F_WRLCK). fs-ext fills the struct flock
// itself with l_whence = SEEK_SET, l_start = 0, l_len = 0, i.e. a write lock on the WHOLE file
// (from byte 0 to "infinity"); the byte range cannot be chosen (and fs-ext's synchronous fcntl
// passes the integer as a pointer and fails with EFAULT). CTDB's helper locks byte 0, length 1.
// The two still exclude each other in both directions, because a whole-file lock overlaps
// byte 0: while CTDB's helper holds byte 0 our F_SETLK fails with EAGAIN (-> '1'), and while we
// hold the whole file CTDB's F_SETLK on byte 0 fails with EAGAIN (-> '1'). Two ctdbctl helpers
// exclude each other trivially. The wider range has one side effect: CTDB's lock-test child
// (blocking lock on byte 1) only runs in a CTDB helper that holds the lock, so it never waits
// on us in a healthy cluster.
//
// The recheck differs in mechanics, not in outcome. CTDB forks a lock-test child that opens the
// file, compares the inode and takes a blocking lock on byte 1. We cannot open and close the
// file in this process: POSIX drops *all* of a process's record locks on a file when *any*
// descriptor of that file is closed, so a recheck by open/close would silently release the
// cluster lock. Instead every RECHECK seconds we stat() the path (by name, no descriptor) and
// compare device and inode with the locked descriptor, then exercise the file system's lock
// manager with F_GETLK on the held descriptor (it never changes our locks; fs-ext runs it on the
// libuv thread pool, so a hung cluster file system blocks a pool thread, not us). PING_TIMEOUT
// keeps CTDB's meaning: if one recheck round takes longer than PING_TIMEOUT seconds we give up.
// The messages are CTDB's, with our program name.

import {closeSync, constants as fsConstants, fstatSync, openSync, readFileSync, stat, writeSync} from 'node:fs'
import {createRequire} from 'node:module'

export const FCNTL_PROG = 'ctdbctl mutex fcntl'
const PARENT_CHECK_MS = 5000

interface FsExt {
  fcntl(fd: number, cmd: 'setlk' | 'getlk' | number, arg: number, callback: (err: NodeJS.ErrnoException | null, result?: number) => void): void
  constants: {F_WRLCK: number; F_RDLCK: number; F_UNLCK: number}
}

export interface FcntlHelperIo {
  /** Writes the status byte (stdout, no newline). */
  status(char: '0' | '1' | '3'): void
  /** One line on stderr. */
  error(line: string): void
  exit(code: number): never
}

const defaultIo: FcntlHelperIo = {
  status: (c) => quietWrite(1, c),
  error: (line) => quietWrite(2, line + '\n'),
  exit: (code) => process.exit(code),
}

/** Writes without throwing: a reader that went away (EPIPE) is not our problem. */
export function quietWrite(fd: number, text: string): void {
  try {
    writeSync(fd, text)
  } catch {
    /* ignore */
  }
}

export function usage(prog = FCNTL_PROG): string {
  return `Usage: ${prog} <file> [recheck_interval [ping_timeout]]`
}

/** Runs the helper; returns only while holding (the process stays alive on timers). */
export async function runFcntlHelper(args: string[], io: FcntlHelperIo = defaultIo, prog = FCNTL_PROG): Promise<void> {
  const numeric = /^\d+$/
  if (args.length < 1 || args.length > 3 || args.slice(1).some((a) => !numeric.test(a)) || args[0] === '') {
    io.error(usage(prog))
    io.exit(1)
  }
  const file = args[0]
  const recheckS = args.length > 1 ? Number(args[1]) : 5
  const pingTimeoutS = args.length > 2 ? Number(args[2]) : 0
  const ppid = process.ppid

  // Default SIGTERM action, made explicit: the kernel drops the record lock at exit.
  process.on('SIGTERM', () => io.exit(0))

  let fd: number
  try {
    fd = openSync(file, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o600)
  } catch (error) {
    io.error(`${prog}: Unable to open ${file} - (${strerror(error)})`)
    io.status('3')
    io.exit(0)
  }

  const fsExt = createRequire(import.meta.url)('fs-ext') as FsExt
  const lockError = await new Promise<NodeJS.ErrnoException | null>((resolve) => fsExt.fcntl(fd, 'setlk', fsExt.constants.F_WRLCK, (err) => resolve(err)))
  if (lockError) {
    closeSync(fd)
    if (lockError.code === 'EACCES' || lockError.code === 'EAGAIN') {
      io.status('1')
      io.exit(0)
    }
    io.error(`${prog}: Failed to get lock on '${file}' - (${strerror(lockError)})`)
    io.status('3')
    io.exit(0)
  }
  const locked = fstatSync(fd)
  io.status('0')

  if (ppid === 1) {
    io.error('parent == 1')
    io.exit(0)
  }

  const lost = (message: string): never => {
    io.error(message)
    try {
      closeSync(fd)
    } catch {
      /* exiting anyway */
    }
    return io.exit(1)
  }

  setInterval(() => {
    if (!parentAlive(ppid)) lost('parent gone')
  }, PARENT_CHECK_MS)

  if (recheckS > 0) {
    let roundStarted: number | undefined
    const round = async (): Promise<void> => {
      roundStarted = Date.now()
      const st = await new Promise<{ino: number; dev: number} | NodeJS.ErrnoException>((resolve) => stat(file, (err, s) => resolve(err ?? s)))
      if (st instanceof Error) lost(`${prog}: lock lost - lock file "${file}" open failed (ret=${errnoOf(st)})`)
      const s = st as {ino: number; dev: number}
      if (s.ino !== locked.ino || s.dev !== locked.dev) lost(`${prog}: lock lost - lock file "${file}" inode changed`)
      const testError = await new Promise<NodeJS.ErrnoException | null>((resolve) => fsExt.fcntl(fd, 'getlk', fsExt.constants.F_WRLCK, (err) => resolve(err)))
      if (testError) lost(`${prog}: lock fail - lock file "${file}" test lock error (${errnoOf(testError)})`)
      roundStarted = undefined
      setTimeout(() => void round(), recheckS * 1000)
    }
    setTimeout(() => void round(), recheckS * 1000)
    if (pingTimeoutS > 0) {
      setInterval(() => {
        if (roundStarted !== undefined && Date.now() - roundStarted > pingTimeoutS * 1000) lost(`${prog}: ping timeout from lock test child`)
      }, 1000)
    }
  }
}

/** Signal 0 to the original parent, plus a reparenting check (guards against pid reuse). */
export function parentAlive(ppid: number): boolean {
  try {
    process.kill(ppid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  const current = currentPpid()
  return current === undefined || current === ppid
}

function currentPpid(): number | undefined {
  try {
    // /proc/self/stat: "pid (comm) state ppid …"; comm may contain spaces and parentheses.
    const text = readFileSync('/proc/self/stat', 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    const n = Number(fields[1])
    return Number.isInteger(n) ? n : undefined
  } catch {
    return undefined
  }
}

function errnoOf(error: NodeJS.ErrnoException): number {
  return Math.abs(error.errno ?? 0)
}

/** strerror()-like text from a Node error ("ENOENT: no such file or directory, open 'x'"). */
export function strerror(error: unknown): string {
  const message = (error as Error).message ?? String(error)
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(message)
  const text = m ? m[1] : message
  return text.charAt(0).toUpperCase() + text.slice(1)
}
