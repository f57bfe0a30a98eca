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
 * plain async functions, come from ./core.ts, which does not import vitest: `planKit(options)`,
 * `storeContract(options)`, and `lifecyclePaths()` with `runLifecyclePath(path, options)`. See
 * docs/custom-stores.md.
 */
import { afterAll, describe, it } from 'vitest';
import type { SessionStore } from '../index.js';
import { kitTimeout, planKit, type KitCheck, type KitOptions, type KitPlan } from './checks.js';
import { replayHint } from './seed.js';

export * from './core.js';

export interface TestStoreOptions<S extends SessionStore = SessionStore> extends KitOptions<S> {
  /** The name of the suites, which failures give too. */
  name: string;
  /** Per-test timeout in ms (default `ttlBound + 10000`). */
  timeout?: number;
}

/**
 * Registers the conformance suites for a store: `describe` / `it` blocks of vitest. The suites are
 * collected once a first store went through the middleware's acceptance (an async `describe`), so
 * that the checks are those of what the store can do; a store the middleware refuses gets that one
 * failing test.
 */
export function testStore<S extends SessionStore>(options: TestStoreOptions<S>): void {
  const timeout = kitTimeout(options);
  let planned: Promise<KitPlan> | undefined;
  const plan = () =>
    (planned ??= planKit(options).then((p) => {
      console.info(`koa-session-machine/testing: ${options.name}, seed ${replayHint(p.seed)}`);
      return p;
    }));
  const register = (check: KitCheck) => {
    if (check.skip) it.skip(`${check.name} (skipped: ${check.skip})`, () => undefined);
    else it(check.name, () => check.run(), timeout);
  };
  const contract = options.contract !== false;

  if (contract) {
    describe(`${options.name}: store contract`, async () => {
      const kit = await plan();
      register(kit.acceptance);
      kit.contract.forEach(register);
    });
  }
  if (options.lifecycle !== false) {
    describe(`${options.name}: session lifecycle paths`, async () => {
      const kit = await plan();
      if (!contract) register(kit.acceptance);
      if (kit.refused) it.skip('not run: the middleware refuses the store', () => undefined);
      kit.lifecycle.forEach(register);
    });
  }
  afterAll(async () => (await planned)?.close());
}
