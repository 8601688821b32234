// NATS connection options from the cluster file (servers, credentials, TLS), shared by the
// daemon and the client.
import type {ConnectionOptions} from '@nats-io/transport-node'
import type {NatsSettings} from '../config/model.js'
import {natsAuthenticator} from './credentials.js'

export function natsConnectionOptions(nats: NatsSettings, name: string): ConnectionOptions {
  const tls = nats.tls
  return {
    servers: nats.servers,
    name,
    ...(nats.credentials ? {authenticator: natsAuthenticator(nats.credentials)} : {}),
    ...(tls ? {tls: {...(tls.ca ? {caFile: tls.ca} : {}), ...(tls.cert ? {certFile: tls.cert} : {}), ...(tls.key ? {keyFile: tls.key} : {})}} : {}),
  }
}
