// `ctdbctl creds generate`: one nkey seed per node and one for the operator (files of mode
// 0600), and the nats-server authorization include granting each identity its permissions.
// Existing seeds are kept (a node added later gets a new seed, the others keep theirs) unless
// `force` replaces them all.
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {createUser, fromSeed} from '@nats-io/nkeys'
import type {NodeConfig} from '../config/model.js'
import {nodePermissions, operatorPermissions, type Permissions} from './permissions.js'

export const OPERATOR = 'operator'

export interface Identity {
  /** `operator` or the node's name. */
  name: string
  pnn?: number
  seedFile: string
  publicKey: string
  created: boolean
}

export interface GeneratedCreds {
  identities: Identity[]
  /** The nats-server include. */
  serverConfigFile: string
}

export function seedFileName(identity: string): string {
  return `${identity}.nk`
}

export function serverConfigFile(outDir: string, cluster: string): string {
  return join(outDir, `nats-auth-${cluster}.conf`)
}

/** The public key of an existing seed file, undefined when there is none. */
function existingKey(file: string): string | undefined {
  if (!existsSync(file)) return undefined
  let key = ''
  try {
    key = fromSeed(new TextEncoder().encode(readFileSync(file, 'utf8').trim())).getPublicKey()
  } catch {
    // reported below
  }
  if (!key.startsWith('U')) throw new Error(`${file} exists but holds no valid nkey user seed; remove it or use --force to replace every seed`)
  return key
}

function create(file: string): string {
  const user = createUser()
  writeFileSync(file, new TextDecoder().decode(user.getSeed()) + '\n', {mode: 0o600})
  return user.getPublicKey()
}

/** The nats-server's own TLS (client connections); the same paths on every server. */
export interface ServerTls {
  cert: string
  key: string
  /** CA that signed client certificates, when clients must present one. */
  ca?: string
}

export function generateCreds(config: {name: string; nodes: Pick<NodeConfig, 'pnn' | 'name' | 'deleted'>[]}, outDir: string, force = false, tls?: ServerTls): GeneratedCreds {
  mkdirSync(outDir, {recursive: true, mode: 0o700})
  if (config.nodes.some((n) => !n.deleted && n.name === OPERATOR)) throw new Error(`a node named "${OPERATOR}" would share the operator's seed file; rename the node`)
  const wanted = [{name: OPERATOR}, ...config.nodes.filter((n) => !n.deleted).map((n) => ({name: n.name, pnn: n.pnn}))]
  // Every existing file is checked before anything is written.
  const existing = wanted.map((w) => (force ? undefined : existingKey(join(outDir, seedFileName(w.name)))))
  const identities: Identity[] = wanted.map((w, i) => {
    const seedFile = join(outDir, seedFileName(w.name))
    const key = existing[i]
    return {...w, seedFile, publicKey: key ?? create(seedFile), created: key === undefined}
  })
  const file = serverConfigFile(outDir, config.name)
  writeFileSync(file, renderServerConfig(config.name, identities, tls), {mode: 0o644})
  return {identities, serverConfigFile: file}
}

/** The authorization block (nats-server config syntax accepts JSON values). */
export function renderServerConfig(cluster: string, identities: Pick<Identity, 'name' | 'pnn' | 'publicKey'>[], tls?: ServerTls): string {
  const user = (id: Pick<Identity, 'name' | 'pnn' | 'publicKey'>) => {
    const permissions: Permissions = id.pnn === undefined ? operatorPermissions() : nodePermissions(cluster, id.pnn)
    return `    # ${id.pnn === undefined ? 'operator' : `node ${id.name} (pnn ${id.pnn})`}\n    ${JSON.stringify({nkey: id.publicKey, permissions})}`
  }
  return [
    `# Written by \`ctdbctl creds generate\` for cluster ${cluster}: include it in every nats-server`,
    '# config (include ./' + `nats-auth-${cluster}.conf) or pass it with --config.`,
    'authorization {',
    '  users = [',
    identities.map(user).join(',\n'),
    '  ]',
    '}',
    ...(tls
      ? [
          `tls ${JSON.stringify({cert_file: tls.cert, key_file: tls.key, ...(tls.ca ? {ca_file: tls.ca, verify: true} : {})})}`,
          '# Routes between the servers use TLS too, each side verifying the other.',
          `cluster {"tls": ${JSON.stringify({cert_file: tls.cert, key_file: tls.key, ...(tls.ca ? {ca_file: tls.ca} : {}), verify: true})}}`,
        ]
      : []),
    '',
  ].join('\n')
}
