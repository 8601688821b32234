// LVS reconciler: CTDB's 91.lvs event script, as a pure planner and an executor.
export * from './plan.js'
export * from './reconciler.js'
