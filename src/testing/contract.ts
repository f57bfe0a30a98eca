/**
 * The store contract, as named checks: one file per capability under rules/, listed here in the
 * order they run. Each check gets a fresh store from the author's factory, uses keys of its own
 * (keys.ts: every shape real sids and prefixes have), cleans them up, and fails with a `KitFailure`
 * whose message starts with the rule and names the store, the key, what was expected, what came
 * back, and the seed. The rules of a capability run only when the store has it (declared, or
 * detected from its methods). A new capability's rules are a file of their own and a line in
 * RULE_GROUPS.
 *
 * Timing: nothing here asserts that a store is fast. Expiry is checked from both sides with bounds
 * that a slow store or a busy machine cannot break (rules/expiry.ts); the other fixed waits are
 * short ones that a broken lock would fail and a working one cannot.
 */
import type { SessionStore } from '../index.js';
import { KitFailure } from './failure.js';
import { missingReason, type ResolvedCapabilities, type StoreCapabilities } from './instrumented.js';
import { KeyMaker } from './keys.js';
import { addRules } from './rules/add.js';
import { basicRules } from './rules/basics.js';
import { compareAndSetRules } from './rules/compare-and-set.js';
import { declarationRules } from './rules/declarations.js';
import { eventRules } from './rules/events.js';
import { keyShapeRules } from './rules/key-shapes.js';
import { lockRules } from './rules/lock.js';
import { ownerIndexRules } from './rules/owner-index.js';
import { Probe, type Loose, type RuleGroup } from './rules/probe.js';
import { touchRules } from './rules/touch.js';
import { ttlRules } from './rules/ttl.js';
import { updateRules } from './rules/update.js';
import { Draw } from './seed.js';

export interface StoreContractOptions<S extends SessionStore = SessionStore> {
  /** A fresh store (may be async). Called once per check, and once before them all. */
  factory: () => S | Promise<S>;
  /** The store's name, which failures give (`testStore` uses its `name`). */
  name?: string;
  /**
   * What the store can do beyond get/set/destroy. A capability left out is detected from the
   * store's methods; `true` is checked against them; `false` switches its rules off.
   */
  supports?: StoreCapabilities;
  /** Called with each store once its check is over (close clients here). */
  teardown?: (store: S) => unknown;
  /**
   * The longest, in ms, an entry may outlive its ttl before the ttl rules fail (default 5000;
   * stores that round a ttl up to whole seconds need about 1000).
   */
  ttlBound?: number;
  /** The seed of everything drawn at random (default: $KSM_KIT_SEED, else a new one, printed). */
  seed?: string;
}

export interface StoreCheck {
  /** The rule, in words; failures start with it. */
  rule: string;
  /** Why the check does not apply to this store, when it does not. */
  skip?: string;
  run(): Promise<void>;
}

/** Every rule of the contract, by capability, in the order they run. */
export const RULE_GROUPS: readonly RuleGroup[] = [
  declarationRules,
  basicRules,
  keyShapeRules,
  ttlRules,
  updateRules,
  addRules,
  touchRules,
  compareAndSetRules,
  lockRules,
  ownerIndexRules,
  eventRules,
];

/** What the contract checks of a store know before they run. */
export interface ContractContext {
  seed: string;
  /** The capabilities to test, declared or detected. */
  supports: ResolvedCapabilities;
  /** What the author declared. */
  declared: StoreCapabilities;
}

/** `factory()`, with its failure said as the factory's. */
export async function storeFrom<S>(factory: () => S | Promise<S>): Promise<S> {
  try {
    return await factory();
  } catch (err) {
    throw new Error(`the store factory failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, {
      cause: err,
    });
  }
}

/**
 * The contract checks for a store, in order, with the capabilities already resolved (checks.ts
 * resolves them on a first store, after the middleware's acceptance). Each `run()` builds its own
 * store, and rejects with a `KitFailure` when the store breaks the rule.
 */
export function contractChecks<S extends SessionStore>(
  options: StoreContractOptions<S>,
  { seed, supports, declared }: ContractContext,
): StoreCheck[] {
  const ttlBound = options.ttlBound ?? 5_000;
  return RULE_GROUPS.flatMap(({ capability, rules }) =>
    rules.map(({ rule, needs, body }) => {
      const missing = [...(capability ? [capability] : []), ...(needs ?? [])].filter((n) => !supports[n]);
      const skip = missing.length === 0 ? undefined : missing.map((m) => missingReason(m, declared)).join('; ');
      const label = `${options.name ?? ''} ${rule}`;
      return {
        rule,
        ...(skip ? { skip } : {}),
        run: async () => {
          let store: S | undefined;
          let s: Probe | undefined;
          try {
            store = await storeFrom(options.factory);
            s = new Probe(store as unknown as Loose, new KeyMaker(new Draw(seed, label), rule), ttlBound);
            await body(s, supports, declared);
          } catch (err) {
            throw new KitFailure({ rule, store: options.name, seed }, err);
          } finally {
            await s?.cleanup();
            if (store !== undefined) await options.teardown?.(store);
          }
        },
      };
    }),
  );
}
