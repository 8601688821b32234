// Faults on processes: a daemon killed with SIGKILL and started again, a daemon frozen with
// SIGSTOP and thawed, a node's nats-server killed and started again with the same store.
import {stopProcess} from '../../nats-servers.js'
import type {Fault} from '../context.js'

export const killDaemon: Fault = {
  kind: 'kill-daemon',
  async inject(ctx, pnn) {
    const d = ctx.lc.daemons[pnn]
    ctx.expectedExits.add(d.pid)
    await stopProcess(d.pid, d.process, 'SIGKILL')
    return async () => {
      const started = ctx.lc.startDaemon(pnn)
      ctx.watch(`daemon n${pnn}`, started.process, started.log)
    }
  },
}

export const freezeDaemon: Fault = {
  kind: 'freeze-daemon',
  async inject(ctx, pnn) {
    const {pid} = ctx.lc.daemons[pnn]
    process.kill(pid, 'SIGSTOP')
    return async () => {
      process.kill(pid, 'SIGCONT')
    }
  },
}

export const killNats: Fault = {
  kind: 'kill-nats',
  async inject(ctx, index) {
    const s = ctx.lc.nats[index]
    ctx.expectedExits.add(s.pid)
    await stopProcess(s.pid, s.process, 'SIGKILL')
    return async () => {
      const restarted = await ctx.lc.restartNats(index)
      ctx.watch(`nats-server ${index}`, restarted.process)
    }
  },
}
