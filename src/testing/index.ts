/**
 * koa-session-machine/testing: the conformance kit for session stores.
 *
 * ```ts
 * // my-store.conformance.test.ts
 * import { testStore } from 'koa-session-machine/testing';
 * import { MyStore } from '../src/index.js';
 *
 * testStore({
 *   name: 'MyStore',
 *   factory: () => new MyStore(),
 *   supports: { touch: true, update: true },
 * });
 * ```
 *
 * `testStore` registers vitest suites (vitest is a peer dependency of this entry point): the store
 * contract, one test per rule, and the lifecycle paths generated from the session machine, one
 * test per path, each run through a real Koa app on 127.0.0.1 with the store. The same checks, as
 * plain async functions, come from ./core.ts, which does not import vitest: `storeContract(options)`
 * and `lifecyclePaths()` with `runLifecyclePath(path, options)`. See docs/custom-stores.md.
 */
import { describe, it } from 'vitest';
import type { SessionStore } from '../index.js';
import { contractChecks, kitTimeout, lifecycleChecks, type KitCheck } from './checks.js';
import type { StoreContractOptions } from './contract.js';
import { resolveCapabilities } from './instrumented.js';
import type { RunPathOptions } from './lifecycle.js';

export * from './core.js';

export interface TestStoreOptions<S extends SessionStore = SessionStore> extends StoreContractOptions<S> {
  /** The name of the suites. */
  name: string;
  /** The store key prefix the lifecycle paths use (default the middleware's, `'koa:sess:'`). */
  prefix?: string;
  /** Run the store contract (default `true`). */
  contract?: boolean;
  /** Run the lifecycle paths (default `true`). */
  lifecycle?: boolean;
  /** Per-test timeout in ms (default `ttlBound + 10000`). */
  timeout?: number;
  /** The Koa class for the lifecycle apps (default: the `koa` this package resolves). */
  Koa?: RunPathOptions['Koa'];
}

/** Registers the conformance suites for a store: `describe` / `it` blocks of vitest. */
export function testStore<S extends SessionStore>(options: TestStoreOptions<S>): void {
  const supports = resolveCapabilities(options.supports);
  const timeout = kitTimeout(options);
  const register = (check: KitCheck) => {
    if (check.skip) it.skip(`${check.name} (skipped: ${check.skip})`, () => undefined);
    else it(check.name, () => check.run(), timeout);
  };

  if (options.contract !== false) {
    describe(`${options.name}: store contract`, () => contractChecks(options).forEach(register));
  }

  if (options.lifecycle !== false) {
    describe(`${options.name}: session lifecycle paths`, () => {
      const run: RunPathOptions = {
        factory: options.factory as RunPathOptions['factory'],
        supports,
        ...(options.teardown ? { teardown: options.teardown as RunPathOptions['teardown'] } : {}),
        ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
        ...(options.Koa ? { Koa: options.Koa } : {}),
      };
      lifecycleChecks(run).forEach(register);
    });
  }
}
