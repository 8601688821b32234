// `ctdbctl daemon --metrics-listen HOST:PORT`: GET /metrics in the Prometheus text format.
import {createServer, type Server} from 'node:http'
import type {Registry} from 'prom-client'

/** HOST:PORT or [IPv6]:PORT; throws a clear error otherwise. */
export function parseListen(value: string): {host: string; port: number} {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value)
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) throw new Error(`--metrics-listen "${value}": expected HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)`)
  return {host: m[1] ?? m[2], port}
}

export async function startMetricsServer(registry: Registry, listen: string): Promise<{server: Server; port: number}> {
  const {host, port} = parseListen(listen)
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, {'content-type': 'text/plain'}).end('not found: metrics are at /metrics\n')
      return
    }
    registry.metrics().then(
      (text) => res.writeHead(200, {'content-type': registry.contentType}).end(text),
      (e: Error) => res.writeHead(500, {'content-type': 'text/plain'}).end(`${e.message}\n`),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`--metrics-listen ${listen}: ${e.message}`)))
    server.listen(port, host, () => resolve())
  })
  return {server, port: (server.address() as {port: number}).port}
}
