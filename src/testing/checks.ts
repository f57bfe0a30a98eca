/**
 * The kit's checks as plain named functions, each with the reason it is skipped when the store
 * lacks what it needs: what the vitest suites (./index.ts) register and the command's report
 * (./report.ts) runs, so that both run the same checks under the same names.
 */
import type { SessionStore } from '../index.js';
import { storeContract, type StoreContractOptions } from './contract.js';
import { runLifecyclePath, type RunPathOptions } from './lifecycle.js';
import { lifecyclePaths } from './session-paths.js';

export interface KitCheck {
  name: string;
  /** Why the check is skipped (what the store does not support), if it is. */
  skip?: string;
  run(): Promise<void>;
}

/** ms after which a check that has not ended fails: `timeout`, or the store's `ttlBound` and 10 s. */
export function kitTimeout(options: { timeout?: number; ttlBound?: number }): number {
  return options.timeout ?? (options.ttlBound ?? 5_000) + 10_000;
}

/** One check per rule of the store contract. */
export function contractChecks<S extends SessionStore>(options: StoreContractOptions<S>): KitCheck[] {
  return storeContract(options).map((c) => ({ name: c.rule, ...(c.skip ? { skip: c.skip } : {}), run: c.run }));
}

/** One check per generated lifecycle path, skipped when the path needs a capability the store lacks. */
export function lifecycleChecks(run: RunPathOptions): KitCheck[] {
  return lifecyclePaths().map((path) => {
    const missing = path.requires.filter((capability) => !run.supports[capability]);
    const skip = missing.length > 0 ? `needs ${missing.map((m) => `supports.${m}`).join(' and ')}` : undefined;
    return { name: path.name, ...(skip ? { skip } : {}), run: () => runLifecyclePath(path, run) };
  });
}
