// Opening the config store of a live cluster from a command.
import type {ClusterClient} from '../client/cluster-client.js'
import {ConfigStore} from '../protocol/config-store.js'

export function openStore(client: ClusterClient): Promise<ConfigStore> {
  return ConfigStore.open(client.connection, client.target.cluster, client.target.nats.servers.length)
}
