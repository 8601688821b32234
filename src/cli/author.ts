// Who applies: --author, else Git's user (as a pipeline commits), else the login name and host.
import {execFile} from 'node:child_process'
import {hostname, userInfo} from 'node:os'
import {promisify} from 'node:util'

const run = promisify(execFile)

export async function defaultAuthor(): Promise<string> {
  try {
    const [name, email] = await Promise.all(['user.name', 'user.email'].map(async (k) => (await run('git', ['config', '--get', k])).stdout.trim()))
    if (name) return email ? `${name} <${email}>` : name
  } catch {
    // not in a repository, or no Git identity
  }
  return `${userInfo().username}@${hostname()}`
}
