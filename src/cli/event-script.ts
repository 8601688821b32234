// `event script enable|disable NAME`: the node changes its own script directory.
import {Args, type Command} from '@oclif/core'
import {nodeFlag, targetNodes} from './event-control.js'
import {liveFlags, withCluster} from './live.js'

export const scriptArgs = {name: Args.string({description: 'script name (NN.name, without .script)', required: true})}
export const scriptFlags = {...liveFlags, node: nodeFlag}

export async function setScript(cmd: Command, flags: {config?: string; nats?: string; cluster?: string; timeout: number; node?: string}, name: string, enable: boolean): Promise<void> {
  await withCluster(cmd, flags, async (client) => {
    for (const n of await targetNodes(cmd, client, flags.node)) {
      const reply = await client.eventControl(n.pnn, {op: 'event-script', script: name, enable})
      if (reply.message) process.stdout.write(`node ${n.pnn}: ${reply.message}\n`)
    }
  })
}
