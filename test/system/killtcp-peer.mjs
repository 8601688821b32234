#!/usr/bin/env node
// A TCP server or client holding many idle connections, for the killtcp system test and
// benchmark. Run inside a network namespace:
//   node killtcp-peer.mjs server HOST PORT
//   node killtcp-peer.mjs client HOST PORT COUNT
// It prints one JSON line when ready ({"ready":true} / {"connected":N}) and, for every line
// "report" on its standard input, one JSON line {open, closed, errors: {CODE: count}}; for every
// line "times", {firstErrorAt, lastErrorAt: {CODE: epoch ms of the first / last such error}}.
import net from 'node:net'
import readline from 'node:readline'

const [mode, host, portText, countText] = process.argv.slice(2)
const port = Number(portText)
const sockets = new Set()
const errors = {}
const firstErrorAt = {}
const lastErrorAt = {}
let closed = 0

function track(socket) {
  sockets.add(socket)
  socket.on('data', () => undefined)
  socket.on('error', (e) => {
    const code = e.code ?? e.message
    firstErrorAt[code] ??= Date.now()
    lastErrorAt[code] = Date.now()
    errors[code] = (errors[code] ?? 0) + 1
  })
  socket.on('close', () => {
    sockets.delete(socket)
    closed++
  })
}

function say(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`)
}

readline.createInterface({input: process.stdin}).on('line', (line) => {
  if (line.trim() === 'report') say({open: sockets.size, closed, errors})
  else if (line.trim() === 'times') say({firstErrorAt, lastErrorAt})
})

if (mode === 'server') {
  const server = net.createServer({noDelay: true}, track)
  server.listen({host, port, backlog: 4096}, () => say({ready: true}))
  server.on('error', (e) => {
    say({error: e.message})
    process.exit(1)
  })
} else if (mode === 'client') {
  const count = Number(countText)
  let connected = 0
  let started = 0
  let failed = 0
  const parallel = 256
  const next = () => {
    if (started >= count) return
    started++
    const s = net.connect({host, port})
    let up = false
    const settled = () => {
      if (connected + failed === count) say({connected, failed})
      next()
    }
    s.once('connect', () => {
      up = true
      connected++
      settled()
    })
    s.on('error', () => {
      if (!up) {
        up = true
        failed++
        settled()
      }
    })
    track(s)
  }
  for (let i = 0; i < Math.min(parallel, count); i++) next()
} else {
  process.stderr.write('usage: killtcp-peer.mjs server HOST PORT | client HOST PORT COUNT\n')
  process.exit(2)
}
