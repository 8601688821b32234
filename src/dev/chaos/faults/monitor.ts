// A failing service monitor: the chaos cluster's `services` monitor checks that
// <monitorDir>/<node>.down does not exist, so creating it makes the node UNHEALTHY.
import {rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Fault} from '../context.js'

export const failMonitor: Fault = {
  kind: 'fail-monitor',
  async inject(ctx, pnn) {
    const marker = join(ctx.monitorDir, `n${pnn}.down`)
    writeFileSync(marker, '')
    return async () => rmSync(marker, {force: true})
  },
}
