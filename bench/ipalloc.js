#!/usr/bin/env node
// LCP2 allocation benchmark: all healthy nodes, addresses either all unassigned or all on node 0.
// Addresses are generated deterministically (fixed seed): several IPv4 /24s and IPv6 /64s.
// Prints one JSON line per case: {"bench":"ipalloc","algorithm":"lcp2","nodes":N,"addresses":A,"start":…,"ms":…}
// Needs a build first (npm run build).
import {performance} from 'node:perf_hooks'
import {allocate, parseProblem} from '../dist/cluster/ipalloc/index.js'

const CASES = [
  [16, 256],
  [32, 512],
  [64, 1024],
  [64, 4096],
]

/** mulberry32: small deterministic PRNG. */
function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function addresses(count, seed) {
  const rand = rng(seed)
  const v4nets = Math.max(4, Math.ceil(count / 160))
  const v6nets = 4
  const seen = new Set()
  while (seen.size < count) {
    if (rand() < 0.75) {
      const net = Math.floor(rand() * v4nets)
      seen.add(`10.${20 + (net >> 8)}.${net & 255}.${1 + Math.floor(rand() * 254)}`)
    } else {
      const net = Math.floor(rand() * v6nets)
      seen.add(`fd00:${(net + 1).toString(16)}::${(1 + Math.floor(rand() * 0xfffe)).toString(16)}`)
    }
  }
  return [...seen]
}

function problem(nodes, count, start) {
  return parseProblem({
    algorithm: 'lcp2',
    tunables: {noIPTakeover: false},
    nodes: Array.from({length: nodes}, (_, pnn) => ({pnn, flags: []})),
    ips: addresses(count, 0x1234 + count).map((address) => ({address, current: start === 'unassigned' ? -1 : 0})),
  })
}

// Warm up the JIT on a small case so the first measured case is not penalised.
allocate(problem(8, 128, 'unassigned'))
allocate(problem(8, 128, 'all-on-one'))

for (const [nodes, count] of CASES) {
  for (const start of ['unassigned', 'all-on-one']) {
    const p = problem(nodes, count, start)
    const t0 = performance.now()
    const result = allocate(p)
    const ms = performance.now() - t0
    if (result.length !== count) throw new Error(`expected ${count} results, got ${result.length}`)
    console.log(JSON.stringify({bench: 'ipalloc', algorithm: 'lcp2', nodes, addresses: count, start, ms: Math.round(ms * 10) / 10}))
  }
}
