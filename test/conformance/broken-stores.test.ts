/**
 * A kit that passes a broken store is a defect: each deliberately broken store of fixtures/ must
 * fail exactly the rules it breaks, with an error that names the rule and says what went wrong, and
 * pass the others. The correct stores the broken ones derive from pass every rule (the controls).
 * Stores the middleware refuses get that refusal as their one failure.
 *
 * The lifecycle paths catch broken stores too: a store whose destroy() does nothing fails the paths
 * that end with a session destroyed.
 */
import { describe, expect, it } from 'vitest';
import session, { type SessionStore } from '../../src/index.js';
import {
  ACCEPTANCE,
  lifecyclePathsFor,
  planKit,
  resolveCapabilities,
  runLifecyclePath,
  storeContract,
  type StoreCapabilities,
} from '../../src/testing/index.js';
import { AddOverwritesStore } from './fixtures/add-overwrites.js';
import { AddingStore } from './fixtures/adding-store.js';
import { ByReferenceStore } from './fixtures/by-reference.js';
import { DestroyDoesNothingStore } from './fixtures/destroy-does-nothing.js';
import { DropsEverySecondWriteStore } from './fixtures/drops-every-second-write.js';
import { EventedStore } from './fixtures/evented-store.js';
import { FloorsExpiryStore } from './fixtures/floors-expiry.js';
import { GeneratorStore } from './fixtures/generator-store.js';
import { IgnoresTtlStore } from './fixtures/ignores-ttl.js';
import { IndexIgnoresExpiryStore } from './fixtures/index-ignores-expiry.js';
import { IndexRemoveDoesNothingStore } from './fixtures/index-remove-does-nothing.js';
import { IndexedStore } from './fixtures/indexed-store.js';
import { JsonMapStore } from './fixtures/json-map-store.js';
import { NoDestroyStore } from './fixtures/no-destroy.js';
import { RacyCompareAndSetStore } from './fixtures/racy-compare-and-set.js';
import { RoundsUpExpiryStore } from './fixtures/rounds-up-expiry.js';
import { SplitsNamesStore } from './fixtures/splits-names.js';
import { StaleAfterDestroyStore } from './fixtures/stale-after-destroy.js';
import { StaleCompareAndSetStore } from './fixtures/stale-compare-and-set.js';
import { TtlAsSecondsStore } from './fixtures/ttl-as-seconds.js';
import { VersionedStore } from './fixtures/versioned-store.js';

const TTL = 'an entry is there until its ttl, and gone soon after';
const KEY_SHAPES = 'keys of every shape a sid and a prefix make are kept apart';
const CAPABILITIES = 'the declared capabilities match the store';
const SET_SHARED = 'the object passed to set is not shared with the store';
const GET_SHARED = 'the object returned by get is not shared with the store';
const DESTROY = 'destroy removes the entry';
const READ_BEFORE_DESTROY = 'a session read before destroy is not returned after it';
const OVERWRITE = 'set overwrites an existing entry';
const CONCURRENT = 'concurrent calls on different keys do not interfere';
const ADD_EXISTING = 'add of an existing key returns false and leaves the entry as it was';
const INDEX_REMOVE = 'an index entry is listed after indexAdd, and gone after indexRemove';
const INDEX_CREATED = 'indexAdd of a listed handle replaces its entry but keeps its createdAt';
const INDEX_EXPIRY = 'an index entry is listed until its expiry, and gone after it';
const INDEX_OWNERS = 'the indexes of different owners are independent';
const CAS_STALE = 'compareAndSet with a stale version writes nothing and returns the newer entry';
const CAS_OVER_AN_ENTRY = 'compareAndSet expecting no entry creates a missing key, and writes nothing over an entry';
const CAS_DESTROYED = 'compareAndSet of a destroyed key writes nothing and says it is gone';
const CAS_ONE_STEP = 'of concurrent compareAndSets expecting the same version, exactly one writes';

interface Case {
  name: string;
  factory: () => SessionStore | Promise<SessionStore>;
  /** The rules it breaks, each with what its failure must say. */
  breaks: Record<string, RegExp>;
  supports?: StoreCapabilities;
  ttlBound?: number;
}

/** Every failure says the store, the key (where there is one) and the seed. */
const ANY = /store: {4}.*\n[\s\S]*seed: {5}\w+/;

const STORES: Case[] = [
  { name: 'a correct store (the control)', factory: () => new JsonMapStore(), breaks: {} },
  { name: 'a correct store built by an async factory', factory: async () => new JsonMapStore(), breaks: {} },
  {
    name: 'a correct store that keeps its expiry in whole seconds, rounded up',
    factory: () => new RoundsUpExpiryStore(),
    breaks: {},
    // Entries live up to a second past their ttl: the bound a store rounding up needs.
    ttlBound: 1_500,
  },
  {
    name: 'a correct store that is an EventEmitter and declares nothing',
    factory: () => new EventedStore() as unknown as SessionStore,
    breaks: {},
  },
  {
    name: 'a correct store with add (the control)',
    factory: () => new AddingStore(),
    breaks: {},
    supports: { add: true },
  },
  {
    name: 'a store whose add overwrites',
    factory: () => new AddOverwritesStore(),
    breaks: { [ADD_EXISTING]: /add\(\) of an existing key did not return false/ },
    supports: { add: true },
  },
  {
    name: 'a correct store with an index (the control)',
    factory: () => new IndexedStore(),
    breaks: {},
    supports: { index: true },
  },
  {
    name: 'a correct store with an index it does not declare',
    factory: () => new IndexedStore(),
    breaks: {},
  },
  {
    name: 'a correct store with compareAndSet, its versions numbers of its own (the control)',
    factory: () => new VersionedStore(),
    breaks: {},
  },
  {
    name: 'a store whose compareAndSet writes whatever version it expects',
    factory: () => new StaleCompareAndSetStore(),
    breaks: {
      [CAS_STALE]: /a write that outlived its request would undo a newer one/,
      [CAS_OVER_AN_ENTRY]: /expecting no entry wrote over an existing one/,
      [CAS_DESTROYED]: /a logout would be undone/,
      [CAS_ONE_STEP]: /16 of 16 concurrent compareAndSet\(\) calls expecting one version wrote/,
    },
  },
  {
    name: 'a store whose compareAndSet compares, then writes in a second step',
    factory: () => new RacyCompareAndSetStore(),
    breaks: { [CAS_ONE_STEP]: /the compare and the write are not one step/ },
  },
  {
    name: 'a store whose indexRemove does nothing (a stale index)',
    factory: () => new IndexRemoveDoesNothingStore(),
    breaks: {
      [INDEX_REMOVE]: /still gives a handle after indexRemove\(\)/,
      [INDEX_CREATED]: /kept the old createdAt/,
      [INDEX_OWNERS]: /indexRemove\(\) left the entry listed/,
    },
  },
  {
    name: 'a store whose index entries never expire',
    factory: () => new IndexIgnoresExpiryStore(),
    breaks: { [INDEX_EXPIRY]: /still there \d+ ms after its expiry/ },
    ttlBound: 300,
  },
  {
    name: 'a store that declares a capability it does not have',
    factory: () => new JsonMapStore(),
    breaks: { [CAPABILITIES]: /supports\.touch is declared but the store has no touch\(\)/ },
    supports: { touch: true },
  },
  {
    name: 'a store that keeps its expiry in whole seconds, rounded down',
    factory: () => new FloorsExpiryStore(),
    breaks: { [TTL]: /was gone \d+ ms before its expiry \(is the expiry kept in whole seconds, rounded down\?\)/ },
  },
  {
    name: 'a store that reads the ttl as seconds',
    factory: () => new TtlAsSecondsStore(),
    breaks: { [TTL]: /still there \d+ ms after its expiry \(is the ttl read as seconds instead of ms\?\)/ },
    ttlBound: 300,
  },
  {
    name: 'a store that ignores the ttl',
    factory: () => new IgnoresTtlStore(),
    breaks: { [TTL]: /still there \d+ ms after its expiry/ },
    ttlBound: 300,
  },
  {
    name: 'a store that parses its own entry names split on __',
    factory: () => new SplitsNamesStore(),
    breaks: {
      [KEY_SHAPES]:
        /`__` and a digit, prefix "koa:sess:": get\(\) gave undefined, not its own session[\s\S]*a key others begin with: get\(\) gave/,
      [TTL]: /was gone \d+ ms before its expiry/,
    },
  },
  {
    name: 'a store that returns the stored object by reference',
    factory: () => new ByReferenceStore(),
    breaks: {
      [SET_SHARED]: /changing the object after set\(\) changed what the store returns/,
      [GET_SHARED]: /get\(\) returned the same object twice/,
    },
  },
  {
    name: 'a store whose destroy does nothing',
    factory: () => new DestroyDoesNothingStore(),
    breaks: {
      [DESTROY]: /get\(\) after destroy\(\) gave a session/,
      [READ_BEFORE_DESTROY]: /get\(\) after destroy\(\) gave the session read before it/,
      [CONCURRENT]: /a destroyed key gave a session/,
      [KEY_SHAPES]: /get\(\) after destroy\(\) gave/,
    },
  },
  {
    name: 'a store that drops every second write',
    factory: () => new DropsEverySecondWriteStore(),
    breaks: {
      [OVERWRITE]: /after set\(\) number 2, get\(\) gave another session/,
      [CONCURRENT]: /get\(\) gave another session/,
      [KEY_SHAPES]: /did not give back its own session|not its own session/,
      [TTL]: /was gone \d+ ms before its expiry/,
    },
  },
  {
    name: 'a store that returns stale data after destroy',
    factory: () => new StaleAfterDestroyStore(),
    breaks: {
      [READ_BEFORE_DESTROY]: /get\(\) after destroy\(\) gave the session read before it/,
      [CONCURRENT]: /a destroyed key gave a session/,
      [KEY_SHAPES]: /after destroy\(\)/,
    },
  },
];

describe.each(STORES)('the store contract on $name', async ({ name, factory, breaks, supports, ttlBound }) => {
  const checks = await storeContract({
    name,
    factory,
    seed: 'broken-stores',
    ...(supports ? { supports } : {}),
    ...(ttlBound !== undefined ? { ttlBound } : {}),
  });

  it('names only rules the kit has', () => {
    const rules = checks.map((c) => c.rule);
    for (const rule of Object.keys(breaks)) expect(rules).toContain(rule);
  });

  for (const check of checks.filter((c) => !c.skip)) {
    const broken = breaks[check.rule];
    if (broken) {
      it(`fails "${check.rule}", with a message that names it and says why`, async () => {
        const error = await check.run().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error, 'the kit passed a store that breaks this rule').toBeInstanceOf(Error);
        const { message } = error as Error;
        expect(message.startsWith(`${check.rule}: `)).toBe(true);
        expect(message).toMatch(broken);
        expect(message).toContain(`store:    ${name}`);
        expect(message).toMatch(ANY);
      });
    } else {
      it(`passes "${check.rule}"`, () => check.run());
    }
  }
});

describe('stores the middleware refuses', () => {
  const refused: [string, () => SessionStore][] = [
    ['generator methods (a co / koa 1 store)', () => new GeneratorStore() as unknown as SessionStore],
    ['no destroy()', () => new NoDestroyStore() as unknown as SessionStore],
  ];

  for (const [what, factory] of refused) {
    it(`${what}: one failure, the middleware's own message, and nothing else runs`, async () => {
      let refusal: unknown;
      try {
        session({ store: factory() });
      } catch (err) {
        refusal = err;
      }
      expect(refusal, 'the middleware accepted the store').toBeInstanceOf(TypeError);
      const plan = await planKit({ name: what, factory, seed: 'refused' });
      plan.close();
      expect(plan.refused).toBe(true);
      expect(plan.contract).toEqual([]);
      expect(plan.lifecycle).toEqual([]);
      expect(plan.acceptance.name).toBe(ACCEPTANCE);
      const error = (await plan.acceptance.run().catch((err: unknown) => err)) as Error;
      expect(error.message.startsWith(`${ACCEPTANCE}: TypeError: ${(refusal as Error).message}`)).toBe(true);
      expect(error.message).toContain('seed:     refused');
    });
  }
});

describe('a store that declares nothing', () => {
  it('is judged by the capabilities its methods show: an EventEmitter gets the events rule, an index the index rules', async () => {
    const evented = await planKit({ factory: () => new EventedStore() as unknown as SessionStore, lifecycle: false });
    evented.close();
    expect(evented.supports).toMatchObject({ events: true, index: false, touch: false });
    const indexed = await planKit({ factory: () => new IndexedStore(), lifecycle: false });
    indexed.close();
    expect(indexed.supports).toMatchObject({ events: false, index: true });
    expect(indexed.contract.find((c) => c.name === INDEX_EXPIRY)?.skip).toBeUndefined();
  });

  it('switches a capability off with supports: false, saying so', async () => {
    const plan = await planKit({ factory: () => new IndexedStore(), supports: { index: false }, lifecycle: false });
    plan.close();
    expect(plan.contract.find((c) => c.name === INDEX_EXPIRY)?.skip).toBe('supports.index is false');
    const plain = await planKit({ factory: () => new JsonMapStore(), lifecycle: false });
    plain.close();
    expect(plain.contract.find((c) => c.name === INDEX_EXPIRY)?.skip).toBe(
      'the store has no indexAdd(), indexRemove(), indexList()',
    );
  });
});

describe('the lifecycle paths on a store whose destroy does nothing', () => {
  const destroyed = lifecyclePathsFor({ rolling: false, allowEmpty: false, serialize: false }).filter(
    (p) => p.steps.at(-1)!.state === 'destroyed',
  );

  it('there is a path that ends with the session destroyed', () => {
    expect(destroyed.length).toBeGreaterThan(0);
  });

  for (const path of destroyed) {
    it(`fails ${path.name}, saying the store still holds the session, under which key, and the seed`, async () => {
      const run = runLifecyclePath(path, {
        factory: () => new DestroyDoesNothingStore(),
        supports: resolveCapabilities({}),
        seed: 'paths',
      });
      await expect(run).rejects.toThrow(
        /the store should hold nothing under koa:sess:[\s\S]*key: {6}"koa:sess:[\s\S]*seed: {5}paths/,
      );
    });

    it(`passes ${path.name} with the correct store`, () =>
      runLifecyclePath(path, { factory: () => new JsonMapStore(), supports: resolveCapabilities({}) }));
  }
});
