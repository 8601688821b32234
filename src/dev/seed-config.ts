// Writes a cluster's first config revision as the operator: with authentication the daemons
// may not write the config bucket, so `dev up` seeds it before starting them.
import {connect} from '@nats-io/transport-node'
import {sha256} from '../cluster/plan/document.js'
import type {NatsSettings} from '../config/model.js'
import {ConfigStore, StaleRevisionError} from '../protocol/config-store.js'
import {natsConnectionOptions} from '../protocol/connection.js'

export async function seedConfig(nats: NatsSettings, cluster: string, yaml: string): Promise<void> {
  const nc = await connect({...natsConnectionOptions(nats, 'ctdbctl dev up'), timeout: 5000})
  try {
    const store = await ConfigStore.open(nc, cluster, nats.servers.length)
    await store.write({yaml, sha256: sha256(yaml), author: 'ctdbctl dev up', message: 'seeded from the sandbox cluster file', time: new Date().toISOString()}, 0)
  } catch (e) {
    if (!(e instanceof StaleRevisionError)) throw e
  } finally {
    await nc.close()
  }
}
