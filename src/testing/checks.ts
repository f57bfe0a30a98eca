/**
 * The kit's checks as plain named functions, each with the reason it is skipped when the store
 * lacks what it needs: what the vitest suites (./index.ts) register and the command's report
 * (./report.ts) runs, so that both run the same checks under the same names.
 *
 * The plan starts from one store: the middleware's own acceptance (the check it applies when it
 * is created) and the detection of what the store can do. A store the middleware refuses gets that
 * refusal as its one check and nothing else runs; a factory that fails gets that failure. Every
 * check runs under a watch of the errors the store raises where no one awaits them.
 */
import type { SessionStore } from '../index.js';
import { checkStore } from '../stores/adapter.js';
import { contractChecks, storeFrom, type StoreContractOptions } from './contract.js';
import { KitFailure } from './failure.js';
import { missingReason, resolveCapabilities, type ResolvedCapabilities } from './instrumented.js';
import { runLifecyclePath, type RunPathOptions } from './lifecycle.js';
import { lifecyclePaths } from './session-paths.js';
import { kitSeed } from './seed.js';
import { StoreErrorWatch } from './store-errors.js';

export interface KitCheck {
  name: string;
  /** Why the check is skipped (what the store does not support), if it is. */
  skip?: string;
  run(): Promise<void>;
}

/** ms the first store is given to finish what its constructor started, before it is judged. */
const SETUP_GRACE = 50;

/** The first check, the middleware's acceptance of the store. */
export const ACCEPTANCE = 'the middleware accepts the store';

export interface KitOptions<S extends SessionStore = SessionStore> extends StoreContractOptions<S> {
  /** Run the store contract (default `true`). */
  contract?: boolean;
  /** Run the lifecycle paths (default `true`). */
  lifecycle?: boolean;
  /** The store key prefix the lifecycle paths use (default the middleware's, `'koa:sess:'`). */
  prefix?: string;
  /** The Koa class for the lifecycle apps (default: the `koa` this package resolves). */
  Koa?: RunPathOptions['Koa'];
}

export interface KitPlan {
  seed: string;
  /** The capabilities under test: declared, or detected on the first store. */
  supports: ResolvedCapabilities;
  /** Whether the middleware refuses the store (or the factory failed): then `acceptance` is all. */
  refused: boolean;
  acceptance: KitCheck;
  contract: KitCheck[];
  lifecycle: KitCheck[];
  /** Errors the store raised after the last check, which no check reported. */
  unreported(): Error[];
  /** Ends the watch of the store's errors. */
  close(): void;
}

/** ms after which a check that has not ended fails: `timeout`, or the store's `ttlBound` and 10 s. */
export function kitTimeout(options: { timeout?: number; ttlBound?: number }): number {
  return options.timeout ?? (options.ttlBound ?? 5_000) + 10_000;
}

/**
 * Builds one store, runs it through the middleware's acceptance, and detects what it can do.
 * Resolves the capabilities, or rejects with the refusal or the factory's failure.
 */
async function accept<S extends SessionStore>(options: KitOptions<S>): Promise<ResolvedCapabilities> {
  const store = await storeFrom(options.factory);
  try {
    // A store that starts setting itself up in its constructor gets a moment to fail at it, so that
    // the failure is reported here rather than by whichever rule is running when it comes.
    await new Promise((resolve) => setTimeout(resolve, SETUP_GRACE));
    checkStore(store);
    return resolveCapabilities(options.supports, store);
  } finally {
    await options.teardown?.(store);
  }
}

/** The checks of the kit for a store (its contract, then its lifecycle paths), after its acceptance. */
export async function planKit<S extends SessionStore>(options: KitOptions<S>): Promise<KitPlan> {
  const seed = kitSeed(options.seed);
  const declared = options.supports ?? {};
  const watch = StoreErrorWatch.open();
  const guarded = (check: KitCheck): KitCheck => ({ ...check, run: () => watch.during(check.run) });
  let supports = resolveCapabilities(declared);
  let refusal: unknown;
  try {
    supports = await watch.during(() => accept(options));
  } catch (err) {
    refusal = err;
  }
  const acceptance: KitCheck = {
    name: ACCEPTANCE,
    run: async () => {
      if (refusal !== undefined) throw new KitFailure({ rule: ACCEPTANCE, store: options.name, seed }, refusal);
    },
  };
  const refused = refusal !== undefined;
  const contract =
    refused || options.contract === false
      ? []
      : contractChecks(options, { seed, supports, declared }).map((c) =>
          guarded({ name: c.rule, ...(c.skip ? { skip: c.skip } : {}), run: c.run }),
        );
  const run: RunPathOptions = {
    factory: options.factory as RunPathOptions['factory'],
    supports,
    seed,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.teardown ? { teardown: options.teardown as RunPathOptions['teardown'] } : {}),
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.Koa ? { Koa: options.Koa } : {}),
  };
  const lifecycle =
    refused || options.lifecycle === false
      ? []
      : lifecyclePaths().map((path) => {
          const missing = path.requires.filter((capability) => !supports[capability]);
          const skip = missing.length > 0 ? missing.map((m) => missingReason(m, declared)).join('; ') : undefined;
          return guarded({ name: path.name, ...(skip ? { skip } : {}), run: () => runLifecyclePath(path, run) });
        });
  return {
    seed,
    supports,
    refused,
    acceptance,
    contract,
    lifecycle,
    unreported: () => watch.unreported(),
    close: () => watch.close(),
  };
}
