// Flags and connection plumbing of the commands that talk to a live cluster.
import {Flags, type Command} from '@oclif/core'
import {ClusterClient, type ClusterTarget} from '../client/cluster-client.js'
import {readConfig} from '../config/index.js'
import {natsCredsFlag} from './flags.js'

export const liveFlags = {
  config: Flags.string({char: 'c', summary: 'Cluster file (YAML); the cluster is found through its NATS servers.', env: 'CTDBCTL_CONFIG', helpValue: 'FILE'}),
  nats: Flags.string({summary: 'NATS server URL(s), comma-separated (overrides the cluster file).', helpValue: 'URL'}),
  cluster: Flags.string({summary: 'Cluster name (overrides the cluster file).', helpValue: 'NAME'}),
  'nats-creds': natsCredsFlag,
  timeout: Flags.integer({summary: 'Seconds to wait for the cluster.', default: 3, min: 1}),
}

export async function clusterTarget(cmd: Command, flags: {config?: string; nats?: string; cluster?: string; 'nats-creds'?: string}): Promise<ClusterTarget> {
  const target = await targetFromFlags(cmd, flags)
  const creds = flags['nats-creds']
  return creds ? {...target, nats: {...target.nats, credentials: creds}} : target
}

async function targetFromFlags(cmd: Command, flags: {config?: string; nats?: string; cluster?: string}): Promise<ClusterTarget> {
  if (flags.config) {
    let config
    try {
      config = await readConfig(flags.config)
    } catch (e) {
      process.stderr.write(`Error: ${(e as Error).message}\n`)
      return cmd.exit(1)
    }
    return {cluster: flags.cluster ?? config.name, nats: flags.nats ? {...config.nats, servers: flags.nats.split(',')} : config.nats}
  }
  if (flags.nats && flags.cluster) return {cluster: flags.cluster, nats: {servers: flags.nats.split(',')}}
  return cmd.error('which cluster? give --config FILE (or set CTDBCTL_CONFIG), or --nats URL and --cluster NAME', {exit: 2})
}

/** Runs `fn` with a connected client; unreachable clusters end the command with exit 1. */
export async function withCluster<T>(cmd: Command, flags: Parameters<typeof clusterTarget>[1] & {timeout: number}, fn: (client: ClusterClient) => Promise<T>): Promise<T> {
  const target = await clusterTarget(cmd, flags)
  let client: ClusterClient | undefined
  try {
    client = await ClusterClient.connect(target, flags.timeout * 1000)
    return await fn(client)
  } catch (e) {
    if ((e as {oclif?: unknown}).oclif !== undefined || !(e instanceof Error)) throw e
    process.stderr.write(`Error: ${e.message}\n`)
    return cmd.exit(1)
  } finally {
    await client?.close().catch(() => undefined)
  }
}
