// A `dev up` sandbox for integration tests, with a client and cleanup by pid even on failure.
import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {ClusterClient} from '../../src/client/cluster-client.js'
import type {ClusterState} from '../../src/cluster/state.js'
import {sandboxDown, sandboxNats, sandboxUp, type Sandbox, type UpOptions} from '../../src/dev/sandbox.js'
import {allAgree, waitForCluster} from '../../src/dev/wait.js'

export interface TestCluster {
  sandbox: Sandbox
  client: ClusterClient
  /** Every node's own view. */
  views(): Promise<ClusterState[]>
  /** `p`, with the last lines of these nodes' daemon logs added to its error when it fails (for CI). */
  explain<T>(p: Promise<T>, pnns: number[]): Promise<T>
  down(): Promise<void>
}

function logTail(file: string, lines = 25): string {
  if (!existsSync(file)) return `(no log at ${file})`
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
}

export async function startTestCluster(nodes: number, extraSpec: string, options: Pick<UpOptions, 'auth' | 'metrics'> = {}): Promise<TestCluster> {
  const dir = join(mkdtempSync(join(tmpdir(), 'ctdbctl-it-')), 'sandbox')
  const sandbox = await sandboxUp({nodes, dir, name: 'it', extraSpec, ...options})
  let client: ClusterClient | undefined
  try {
    await waitForCluster(sandbox, 30_000, allAgree)
    client = await ClusterClient.connect({cluster: sandbox.cluster, nats: sandboxNats(sandbox)}, 2000)
  } catch (e) {
    await sandboxDown(dir)
    rmSync(dirname(dir), {recursive: true, force: true})
    throw e
  }
  const c = client
  return {
    sandbox,
    client: c,
    views: () => Promise.all(sandbox.daemons.map((d) => c.status(d.pnn))),
    explain: (p, pnns) =>
      p.catch((e: Error) => {
        e.message += pnns.map((pnn) => `\n--- last lines of node ${pnn}'s daemon log ---\n${logTail(sandbox.daemons[pnn].log)}`).join('')
        throw e
      }),
    down: async () => {
      await c.close().catch(() => undefined)
      // CTDBCTL_TEST_LOGS=DIR keeps the daemon logs of every test cluster for debugging.
      const keep = process.env.CTDBCTL_TEST_LOGS
      if (keep) for (const d of sandbox.daemons) cpSync(d.log, join(keep, `${basename(dirname(dir))}-${d.node}.log`))
      await sandboxDown(dir)
      rmSync(dirname(dir), {recursive: true, force: true})
    },
  }
}

export function flagsOf(state: ClusterState, pnn: number): string[] {
  return state.nodes.find((n) => n.pnn === pnn)?.flags ?? []
}
