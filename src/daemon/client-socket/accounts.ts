// User and group names to numeric ids (Node has no getpwnam): numbers pass through, names are
// looked up in /etc/passwd and /etc/group.
import {readFileSync} from 'node:fs'

function lookup(file: string, name: string, what: string): number {
  if (/^\d+$/.test(name)) return Number(name)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new Error(`cannot resolve ${what} "${name}": ${(e as Error).message}`)
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':')
    if (fields[0] === name && fields.length >= 3 && /^\d+$/.test(fields[2])) return Number(fields[2])
  }
  throw new Error(`unknown ${what} "${name}" (not in ${file})`)
}

export function userId(name: string): number {
  return lookup('/etc/passwd', name, 'user')
}

export function groupId(name: string): number {
  return lookup('/etc/group', name, 'group')
}
