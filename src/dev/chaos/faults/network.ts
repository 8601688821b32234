// Faults on links (veth ends in the lab's hub namespace): a node's public link cut (its eth1
// loses carrier, its addresses must move), or its private link cut (a partition: the node is
// alone with its own nats-server, the majority goes on without it).
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {setPrivateLink} from '../../netlab.js'
import type {Fault} from '../context.js'

const run = promisify(execFile)

export const cutPublicLink: Fault = {
  kind: 'cut-link',
  async inject(ctx, pnn) {
    const {lab} = ctx.lc
    const link = (up: boolean) => run('ip', ['-n', lab.hub, 'link', 'set', `${lab.prefix}${pnn}uo`, up ? 'up' : 'down'])
    await link(false)
    return async () => {
      await link(true)
    }
  },
}

export const partition: Fault = {
  kind: 'partition',
  async inject(ctx, pnn) {
    await setPrivateLink(ctx.lc.lab, pnn, false)
    return () => setPrivateLink(ctx.lc.lab, pnn, true)
  },
}
