// NAT gateway reconciler: CTDB's 11.natgw event script, as a pure planner and an executor.
export * from './plan.js'
export * from './reconciler.js'
export {describeOp, executeHostOps, hostDrivers, silentLogger, type ExecuteResult, type HostDrivers, type HostOp, type OpResult, type ReconcileLogger} from './host-ops.js'
export {CommandError, execRunner, type CommandResult, type CommandRunner, type CommandTarget} from './command.js'
