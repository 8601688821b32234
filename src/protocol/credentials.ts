// NATS credentials from a file: an nkey user seed (what `ctdbctl creds generate` writes) or a
// JWT .creds file. Errors name the file, never its contents.
import {readFileSync} from 'node:fs'
import {credsAuthenticator, nkeyAuthenticator, type Authenticator} from '@nats-io/transport-node'

const SEED = /^SU[A-Z2-7]{56}$/

export function natsAuthenticator(file: string): Authenticator {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new Error(`cannot read NATS credentials ${file}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`)
  }
  if (text.includes('BEGIN NATS USER JWT')) return credsAuthenticator(new TextEncoder().encode(text))
  const seed = text.trim()
  if (SEED.test(seed)) return nkeyAuthenticator(new TextEncoder().encode(seed))
  throw new Error(`${file} is not a NATS credentials file: expected an nkey user seed (from \`ctdbctl creds generate\`) or a .creds file`)
}
