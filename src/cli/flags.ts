// Flags and plumbing shared by the commands that read a config and a cluster state
// (`natgw leader|list|status`, `lvs leader|list|status`): load both, pick the group, print.

import {Flags, type Command} from '@oclif/core'
import type {ClusterConfig} from '../config/model.js'
import {readConfig} from '../config/index.js'
import type {ClusterState} from '../cluster/state.js'
import {detectThisNode, renderClusterUnreachable, renderRuntimeExceeded, type ToolOutput} from '../cluster/nodestatus.js'
import {readStateFile} from './state-file.js'

export const configFlag = Flags.string({
  char: 'c',
  summary: 'Cluster config file (YAML).',
  env: 'CTDBCTL_CONFIG',
  required: true,
  helpValue: 'FILE',
})

export const stateFlag = Flags.string({
  summary: 'Cluster state snapshot (JSON, as printed by `ctdbctl status --json`) instead of the live cluster.',
  helpValue: 'FILE',
})

export const timeoutFlag = Flags.integer({char: 'T', summary: 'Maximum seconds to wait for the live cluster (as ctdb -T).', default: 10, min: 1})

export const jsonFlag = Flags.boolean({summary: 'Print the result as JSON (same exit status).', default: false})

export const groupFlag = Flags.string({
  summary: 'Group to use; defaults to the only group of the config.',
  helpValue: 'NAME',
})

/** --config, --state, --group, --json */
export const natsCredsFlag = Flags.string({summary: "NATS credentials file: the operator's nkey seed or a .creds file (overrides the cluster file).", env: 'CTDBCTL_NATS_CREDS', helpValue: 'FILE'})

/** --config, --state, --group, --json, --timeout, --nats-creds */
export const groupCommandFlags = {config: configFlag, state: stateFlag, group: groupFlag, json: jsonFlag, timeout: timeoutFlag, 'nats-creds': natsCredsFlag}

export interface ClusterInputs {
  config: ClusterConfig
  state: ClusterState
}

/**
 * End the command: the message on stderr as is (multi-line problem lists stay readable, no
 * re-wrapping), exit status 1.
 */
export function fail(cmd: Command, message: string): never {
  process.stderr.write(`Error: ${message}\n`)
  return cmd.exit(1)
}

function readError(file: string, error: unknown): string {
  const e = error as NodeJS.ErrnoException
  if (e.code === 'ENOENT') return `${file}: no such file`
  if (e.code === 'EISDIR') return `${file}: is a directory, not a cluster file`
  if (e.code === 'EACCES') return `${file}: permission denied`
  return e.message
}

/**
 * Load the config and the cluster state: the snapshot of --state, else the live cluster. An
 * unreachable cluster prints CTDB's own wording (connect failure, or maximum runtime exceeded).
 */
export async function loadClusterInputs(
  cmd: Command,
  flags: {config: string; state?: string; timeout?: number; 'nats-creds'?: string},
): Promise<ClusterInputs | {unreachable: ToolOutput}> {
  let config: ClusterConfig
  try {
    config = await readConfig(flags.config)
  } catch (error) {
    fail(cmd, readError(flags.config, error))
  }
  if (flags.state === undefined) {
    try {
      return await liveState(config, (flags.timeout ?? 10) * 1000, flags['nats-creds'])
    } catch (error) {
      fail(cmd, (error as Error).message)
    }
  }
  let state: ClusterState
  try {
    state = await readStateFile(flags.state)
  } catch (error) {
    fail(cmd, (error as Error).message)
  }
  return {config, state}
}

async function liveState(config: ClusterConfig, timeoutMs: number, creds: string | undefined): Promise<ClusterInputs | {unreachable: ToolOutput}> {
  const {ClusterClient} = await import('../client/cluster-client.js')
  let client
  try {
    client = await ClusterClient.connect({cluster: config.name, nats: creds ? {...config.nats, credentials: creds} : config.nats}, timeoutMs)
    return {config, state: await client.status()}
  } catch (error) {
    if (/did not answer within/.test((error as Error).message)) return {unreachable: renderRuntimeExceeded()}
    // Reachable, but we may not in: CTDB's "connect() failed" wording would mislead.
    if (/authorization/i.test((error as Error).message)) throw error
    const {networkInterfaces} = await import('node:os')
    const local = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address))
    return {unreachable: renderClusterUnreachable({endpoint: config.nats.servers.join(','), errno: 111, thisNode: detectThisNode(config.nodes, local)})}
  } finally {
    await client?.close().catch(() => undefined)
  }
}

const KIND_NAME = {natgw: 'NAT gateway', lvs: 'LVS'} as const

/**
 * The group named `name`, or the only group when no name is given. Errors list the groups there
 * are.
 */
export function selectGroup<G extends {name: string}>(
  groups: readonly G[],
  kind: 'natgw' | 'lvs',
  name: string | undefined,
  configFile: string,
): {group: G} | {error: string} {
  const names = groups.map((g) => g.name)
  if (name !== undefined) {
    const group = groups.find((g) => g.name === name)
    if (group) return {group}
    return {
      error: names.length === 0
        ? `${configFile} has no ${KIND_NAME[kind]} group "${name}": spec.${kind} is empty`
        : `${configFile} has no ${KIND_NAME[kind]} group "${name}"; its groups are: ${names.join(', ')}`,
    }
  }
  if (groups.length === 1) return {group: groups[0]}
  if (groups.length === 0) return {error: `${configFile} defines no ${KIND_NAME[kind]} group (spec.${kind} is empty)`}
  return {error: `${configFile} defines several ${KIND_NAME[kind]} groups (${names.join(', ')}): choose one with --group NAME`}
}

/** Print a result exactly (or as JSON) and set the exit status without throwing. */
export function writeToolOutput(result: ToolOutput, json: boolean): void {
  process.stdout.write(json ? JSON.stringify(result.json, null, 2) + '\n' : result.stdout)
  if (result.exitCode !== 0) process.exitCode = result.exitCode
}

/** The whole of a `natgw …` / `lvs …` command once its flags are parsed. */
export async function runGroupCommand<G extends {name: string}>(
  cmd: Command,
  flags: {config: string; state?: string; group?: string; json: boolean; timeout?: number; 'nats-creds'?: string},
  kind: 'natgw' | 'lvs',
  groupsOf: (config: ClusterConfig) => readonly G[],
  run: (config: ClusterConfig, state: ClusterState, group: G) => ToolOutput,
): Promise<void> {
  const inputs = await loadClusterInputs(cmd, flags)
  if ('unreachable' in inputs) return writeToolOutput(inputs.unreachable, flags.json)
  const {config, state} = inputs
  const selected = selectGroup(groupsOf(config), kind, flags.group, flags.config)
  if ('error' in selected) fail(cmd, selected.error)
  writeToolOutput(run(config, state, selected.group), flags.json)
}
