/**
 * The conformance kit without vitest: the store contract as named checks, the lifecycle paths
 * generated from the session machine and their runner, the report the `koa-session-machine-kit`
 * command prints, and transition coverage of flat machines.
 * `index.ts` adds `testStore`, which registers all of it as vitest suites.
 */
export { storeContract, type StoreCheck, type StoreContractOptions } from './contract.js';
export {
  injectedError,
  resolveCapabilities,
  type ResolvedCapabilities,
  type StoreCapabilities,
} from './instrumented.js';
export { runLifecyclePath, type RunPathOptions } from './lifecycle.js';
export { reportKit, type KitCounts, type KitReportOptions } from './report.js';
export {
  coveredBy,
  describeEvent,
  LIFECYCLE_INPUTS,
  lifecyclePaths,
  lifecyclePathsFor,
  type LifecycleInput,
  type LifecyclePath,
  type LifecycleStep,
  type PathCapability,
  type SessionMachineEvent,
} from './session-paths.js';
export { initialTransition, transitionsOf, transitionTaken, uncoveredTransitions } from './graph.js';
