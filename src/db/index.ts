// The database service of a node (issue 10): see service.ts; api.ts is the client socket's contract.
import {DatabaseService, type DatabaseServiceOptions} from './service.js'

export type {ClusterView, DatabaseServiceOptions} from './service.js'
export {DatabaseService} from './service.js'
export type * from './api.js'

export function createDatabaseService(options: DatabaseServiceOptions): DatabaseService {
  return new DatabaseService(options)
}
