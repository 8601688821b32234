#!/usr/bin/env node
// Client side of lab clusters (run inside the client namespace):
//   lab-client.mjs once PORT ADDR...    connect to each address once; print one JSON line
//   lab-client.mjs watch PORT ADDR...   every 10 ms connect to every address; print a JSON line
//                                       {t, address, node|null} whenever an address's answer changes
import {connect} from 'node:net'

const [mode, port, ...addresses] = process.argv.slice(2)

function ask(address, timeoutMs = 300) {
  return new Promise((resolve) => {
    const socket = connect({host: address, port: Number(port)})
    let data = ''
    const done = (v) => {
      socket.destroy()
      resolve(v)
    }
    socket.setTimeout(timeoutMs, () => done(null))
    socket.on('data', (d) => (data += d))
    socket.on('end', () => done(data.trim() || null))
    socket.on('error', () => done(null))
  })
}

if (mode === 'once') {
  const answers = await Promise.all(addresses.map((a) => ask(a)))
  console.log(JSON.stringify(Object.fromEntries(addresses.map((a, i) => [a, answers[i]]))))
} else if (mode === 'watch') {
  const last = new Map()
  for (;;) {
    const started = Date.now()
    await Promise.all(addresses.map(async (a) => {
      const node = await ask(a, 200)
      if (last.get(a) !== node) {
        last.set(a, node)
        console.log(JSON.stringify({t: Date.now(), address: a, node}))
      }
    }))
    await new Promise((r) => setTimeout(r, Math.max(0, 10 - (Date.now() - started))))
  }
} else {
  console.error('usage: lab-client.mjs once|watch PORT ADDR...')
  process.exit(2)
}
