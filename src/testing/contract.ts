/**
 * The store contract, as named checks: one file per capability under rules/, listed here in the
 * order they run. Each check gets a fresh store from the author's factory, uses keys of its own,
 * cleans them up, and fails with an error whose message starts with the rule it checks. The rules
 * of a capability run only when the capability is declared; the first rule makes sure the
 * declaration matches the store's methods (the middleware uses every optional method a store has,
 * declared or not). A new capability's rules are a file of their own and a line in RULE_GROUPS.
 *
 * Timing: nothing here asserts that a store is fast. Expiry is awaited by polling, bounded by
 * `ttlBound`; the only fixed waits are short ones that a broken lock would fail and a working one
 * cannot, and the index expiry rule's wait of half the entry's life, after which the entry must
 * still be listed (checked only when the list answered before the expiry).
 */
import { randomBytes } from 'node:crypto';
import type { SessionStore } from '../index.js';
import { resolveCapabilities, type StoreCapabilities } from './instrumented.js';
import { addRules } from './rules/add.js';
import { basicRules } from './rules/basics.js';
import { declarationRules } from './rules/declarations.js';
import { eventRules } from './rules/events.js';
import { lockRules } from './rules/lock.js';
import { ownerIndexRules } from './rules/owner-index.js';
import { Probe, type Loose, type RuleGroup } from './rules/probe.js';
import { touchRules } from './rules/touch.js';
import { ttlRules } from './rules/ttl.js';
import { updateRules } from './rules/update.js';

export interface StoreContractOptions<S extends SessionStore = SessionStore> {
  /** A fresh store (may be async). Called once per check. */
  factory: () => S | Promise<S>;
  /** What the store can do beyond get/set/destroy. */
  supports?: StoreCapabilities;
  /** Called with each store once its check is over (close clients here). */
  teardown?: (store: S) => unknown;
  /**
   * The longest, in ms, an entry may outlive its ttl before the ttl rules fail (default 5000;
   * stores that round a ttl up to whole seconds need about 1000).
   */
  ttlBound?: number;
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
  ttlRules,
  updateRules,
  addRules,
  touchRules,
  lockRules,
  ownerIndexRules,
  eventRules,
];

let runs = 0;

/**
 * The contract checks for a store, in order. Each `run()` builds its own store, and rejects with an
 * error whose message starts with the rule when the store breaks it.
 */
export function storeContract<S extends SessionStore>(options: StoreContractOptions<S>): StoreCheck[] {
  const supports = resolveCapabilities(options.supports);
  const ttlBound = options.ttlBound ?? 5_000;
  return RULE_GROUPS.flatMap(({ capability, rules }) =>
    rules.map(({ rule, needs, body }) => {
      const missing = [...(capability ? [capability] : []), ...(needs ?? [])].filter((n) => !supports[n]);
      const skip =
        missing.length === 0
          ? undefined
          : `the store does not declare ${missing.map((m) => `supports.${m}`).join(' and ')}`;
      return {
        rule,
        ...(skip ? { skip } : {}),
        run: async () => {
          const store = await options.factory();
          const s = new Probe(
            store as unknown as Loose,
            `${process.pid}-${++runs}-${randomBytes(4).toString('hex')}`,
            ttlBound,
          );
          try {
            await body(s, supports);
          } catch (err) {
            if (err instanceof Error) {
              err.message = `${rule}: ${err.message}`;
              throw err;
            }
            throw new Error(`${rule}: ${String(err)}`);
          } finally {
            await s.cleanup();
            await options.teardown?.(store);
          }
        },
      };
    }),
  );
}
