// Creates the client socket so that it is never reachable with wider permissions than asked:
// bind inside a fresh 0700 directory, chmod/chown there, then rename onto the final path.
import {chmodSync, chownSync, mkdtempSync, renameSync, rmSync} from 'node:fs'
import {connect, type Server} from 'node:net'
import {dirname, join} from 'node:path'

export interface SocketAccess {
  /** File mode of the socket, default 0o660. */
  mode?: number
  uid?: number
  gid?: number
}

/** True when a process accepts connections on `path` (another daemon is running). */
export function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

export async function listenAtomically(server: Server, path: string, access: SocketAccess): Promise<void> {
  if (await socketInUse(path)) throw new Error(`another process is listening on ${path}`)
  const dir = mkdtempSync(join(dirname(path), '.sock-'))
  try {
    const tmp = join(dir, 's')
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(tmp, () => {
        server.off('error', reject)
        resolve()
      })
    })
    chmodSync(tmp, access.mode ?? 0o660)
    if (access.uid !== undefined || access.gid !== undefined) chownSync(tmp, access.uid ?? -1, access.gid ?? -1)
    renameSync(tmp, path)
  } catch (e) {
    server.close()
    throw e
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
