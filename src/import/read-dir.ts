// The only I/O of the importer: read a CTDB configuration directory into a CtdbDirInput.
import {lstat, readdir, readFile, stat} from 'node:fs/promises'
import path from 'node:path'
import type {CtdbDirInput, ScriptEntry} from './types.js'

/** Files bigger than this are no CTDB configuration; they are listed, not read. */
export const MAX_FILE_BYTES = 1024 * 1024

/** A file that was asked for by name and cannot be read (usage error). */
export class ReadError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ReadError'
  }
}

/**
 * Read the directory: its top-level text files, `tunables.d/*.tunables`, `events/legacy/*.options`,
 * the scripts of `events/legacy/` with CTDB's notion of enabled, the notification scripts
 * (listed only), and the extra files (per-node public address files) by the names given:
 * relative names are taken inside `dir`.
 */
export async function readCtdbDir(dir: string, extraFiles: string[] = []): Promise<CtdbDirInput> {
  const files: Record<string, string> = {}
  const otherEntries: string[] = []
  const scripts: ScriptEntry[] = []
  let haveLegacy = false

  const readText = async (rel: string, abs: string): Promise<void> => {
    const st = await stat(abs)
    if (!st.isFile()) return
    if (st.size > MAX_FILE_BYTES) {
      otherEntries.push(rel)
      return
    }
    const buf = await readFile(abs)
    if (buf.includes(0)) {
      otherEntries.push(rel)
      return
    }
    files[rel] = buf.toString('utf8')
  }

  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const abs = path.join(dir, entry.name)
    const st = await stat(abs).catch(() => undefined)
    if (!st) continue
    if (st.isFile()) await readText(entry.name, abs)
    else if (st.isDirectory() && entry.name === 'tunables.d') {
      for (const name of await readdir(abs)) if (name.endsWith('.tunables')) await readText(`tunables.d/${name}`, path.join(abs, name)).catch(() => undefined)
    } else if (st.isDirectory() && entry.name === 'notify.d') {
      for (const name of await readdir(abs)) otherEntries.push(`notify.d/${name}`)
    } else if (st.isDirectory() && entry.name === 'events') {
      const legacy = path.join(abs, 'legacy')
      if ((await stat(legacy).catch(() => undefined))?.isDirectory()) {
        haveLegacy = true
        for (const name of await readdir(legacy)) {
          const rel = `events/legacy/${name}`
          const p = path.join(legacy, name)
          if (name.endsWith('.options')) await readText(rel, p).catch(() => undefined)
          else if (name.endsWith('.script')) scripts.push(await scriptEntry(rel, p))
        }
      }
      const notification = path.join(abs, 'notification')
      if ((await stat(notification).catch(() => undefined))?.isDirectory()) {
        for (const name of await readdir(notification)) otherEntries.push(`events/notification/${name}`)
      }
    }
  }

  for (const f of extraFiles) {
    if (f in files) continue
    const abs = path.isAbsolute(f) ? f : path.join(dir, f)
    try {
      await readText(f, abs)
    } catch (error) {
      throw new ReadError(`cannot read the public address file ${abs}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
    }
    if (!(f in files)) throw new ReadError(`the public address file ${abs} is not a text file`)
  }

  return {files, ...(haveLegacy ? {scripts} : {}), ...(otherEntries.length > 0 ? {otherEntries: otherEntries.sort()} : {})}
}

async function scriptEntry(rel: string, abs: string): Promise<ScriptEntry> {
  const l = await lstat(abs)
  if (l.isSymbolicLink()) {
    const target = await stat(abs).catch(() => undefined)
    if (!target) return {path: rel, executable: false, symlink: 'dangling'}
    return {path: rel, executable: target.isFile() && (target.mode & 0o100) !== 0, symlink: 'ok'}
  }
  return {path: rel, executable: l.isFile() && (l.mode & 0o100) !== 0}
}
