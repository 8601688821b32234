#!/usr/bin/env node
// A tiny TCP service for lab clusters: answers every connection with this node's name.
// Usage (inside a node namespace): lab-service.mjs PORT NAME
import {createServer} from 'node:net'

const [port, name] = process.argv.slice(2)
createServer((socket) => {
  socket.on('error', () => undefined)
  socket.end(`${name}\n`)
}).listen(Number(port), '0.0.0.0')
