/**
 * The conformance kit without vitest: the kit's plan for a store (the middleware's acceptance, the
 * store contract as named checks, the lifecycle paths generated from the session machine, each a
 * check), the contract alone, the paths and their runner, the report the `koa-session-machine-kit`
 * command prints, the failure every check rejects with, and transition coverage of flat machines.
 * `index.ts` adds `testStore`, which registers all of it as vitest suites.
 */
import { planKit, type KitOptions } from './checks.js';
import type { StoreCheck } from './contract.js';

export { ACCEPTANCE, planKit, type KitCheck, type KitOptions, type KitPlan } from './checks.js';
export { type StoreCheck, type StoreContractOptions } from './contract.js';
export { KitFailure } from './failure.js';
export {
  injectedError,
  resolveCapabilities,
  type ResolvedCapabilities,
  type StoreCapabilities,
} from './instrumented.js';
export { PREFIXES, SID_SHAPES, type KeyShape } from './keys.js';
export { runLifecyclePath, type RunPathOptions } from './lifecycle.js';
export { failedSummary, reportKit, type KitCounts, type KitReportOptions } from './report.js';
export { kitSeed, SEED_ENV } from './seed.js';
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

/**
 * The store contract alone, in order: the middleware's acceptance first, then one check per rule
 * (just the acceptance when the middleware refuses the store). Errors the store raises where no one
 * awaits them are not watched here; `planKit` watches them until its `close()`.
 */
export async function storeContract(options: KitOptions): Promise<StoreCheck[]> {
  const plan = await planKit({ ...options, lifecycle: false });
  plan.close();
  return [plan.acceptance, ...plan.contract].map((c) => ({
    rule: c.name,
    ...(c.skip ? { skip: c.skip } : {}),
    run: c.run,
  }));
}
