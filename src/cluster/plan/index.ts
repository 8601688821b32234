// `ctdbctl plan`: change set, consequences and renderings (issue 4).
//
//   changes.ts       config → config change set (pure)
//   consequences.ts  allocations and leaders before/after (pure)
//   document.ts      the plan document, schemas/plan.schema.json (pure)
//   diff.ts          unified diff of the two texts (pure)
//   render.ts        human rendering (pure)
//   (reading the configs from files and Git is src/cli/plan-inputs.ts: this module does no I/O)


export {countChanges, diffConfigs, type Change, type ChangeSet, type UnsafeChange} from './changes.js'
export {computeConsequences, type Consequences} from './consequences.js'
export {buildPlan, renderPlanJson, sha256, type PlanDocument} from './document.js'
