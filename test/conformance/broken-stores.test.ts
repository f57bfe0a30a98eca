/**
 * A kit that passes a broken store is a defect: each deliberately broken store of fixtures/ must
 * fail exactly the rules it breaks, with an error that names the rule, and pass the others. The
 * correct store the broken ones derive from passes every rule (the control).
 *
 * The lifecycle paths catch broken stores too: a store whose destroy() does nothing fails the paths
 * that end with a session destroyed.
 */
import { describe, expect, it } from 'vitest';
import type { SessionStore } from '../../src/index.js';
import {
  lifecyclePathsFor,
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
import { IgnoresTtlStore } from './fixtures/ignores-ttl.js';
import { IndexIgnoresExpiryStore } from './fixtures/index-ignores-expiry.js';
import { IndexRemoveDoesNothingStore } from './fixtures/index-remove-does-nothing.js';
import { IndexedStore } from './fixtures/indexed-store.js';
import { JsonMapStore } from './fixtures/json-map-store.js';
import { StaleAfterDestroyStore } from './fixtures/stale-after-destroy.js';

const TTL = 'an entry is gone after its ttl';
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

const STORES: { name: string; factory: () => SessionStore; breaks: string[]; supports?: StoreCapabilities }[] = [
  { name: 'a correct store (the control)', factory: () => new JsonMapStore(), breaks: [] },
  {
    name: 'a correct store with add (the control)',
    factory: () => new AddingStore(),
    breaks: [],
    supports: { add: true },
  },
  {
    name: 'a store whose add overwrites',
    factory: () => new AddOverwritesStore(),
    breaks: [ADD_EXISTING],
    supports: { add: true },
  },
  {
    name: 'a correct store with an index (the control)',
    factory: () => new IndexedStore(),
    breaks: [],
    supports: { index: true },
  },
  {
    name: 'a store whose indexRemove does nothing (a stale index)',
    factory: () => new IndexRemoveDoesNothingStore(),
    breaks: [INDEX_REMOVE, INDEX_CREATED, INDEX_OWNERS],
    supports: { index: true },
  },
  {
    name: 'a store whose index entries never expire',
    factory: () => new IndexIgnoresExpiryStore(),
    breaks: [INDEX_EXPIRY],
    supports: { index: true },
  },
  { name: 'a store with an index it does not declare', factory: () => new IndexedStore(), breaks: [CAPABILITIES] },
  { name: 'a store that ignores the ttl', factory: () => new IgnoresTtlStore(), breaks: [TTL] },
  {
    name: 'a store that returns the stored object by reference',
    factory: () => new ByReferenceStore(),
    breaks: [SET_SHARED, GET_SHARED],
  },
  {
    name: 'a store whose destroy does nothing',
    factory: () => new DestroyDoesNothingStore(),
    breaks: [DESTROY, READ_BEFORE_DESTROY, CONCURRENT],
  },
  {
    name: 'a store that drops every second write',
    factory: () => new DropsEverySecondWriteStore(),
    breaks: [OVERWRITE, CONCURRENT],
  },
  {
    name: 'a store that returns stale data after destroy',
    factory: () => new StaleAfterDestroyStore(),
    breaks: [READ_BEFORE_DESTROY, CONCURRENT],
  },
];

describe.each(STORES)('the store contract on $name', ({ factory, breaks, supports }) => {
  // A short bound: the ttl rule fails the store that ignores the ttl after 300 ms instead of 5 s.
  const checks = storeContract({ factory, ttlBound: 300, ...(supports ? { supports } : {}) });

  it('names only rules the kit has', () => {
    const rules = checks.map((c) => c.rule);
    for (const rule of breaks) expect(rules).toContain(rule);
  });

  for (const check of checks.filter((c) => !c.skip)) {
    if (breaks.includes(check.rule)) {
      it(`fails "${check.rule}", with a message that names it`, async () => {
        const error = await check.run().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error, 'the kit passed a store that breaks this rule').toBeInstanceOf(Error);
        expect((error as Error).message.startsWith(`${check.rule}: `)).toBe(true);
      });
    } else {
      it(`passes "${check.rule}"`, () => check.run());
    }
  }
});

describe('the lifecycle paths on a store whose destroy does nothing', () => {
  const destroyed = lifecyclePathsFor({ rolling: false, allowEmpty: false, serialize: false }).filter(
    (p) => p.steps.at(-1)!.state === 'destroyed',
  );

  it('there is a path that ends with the session destroyed', () => {
    expect(destroyed.length).toBeGreaterThan(0);
  });

  for (const path of destroyed) {
    it(`fails ${path.name}, saying the store still holds the session`, async () => {
      const run = runLifecyclePath(path, {
        factory: () => new DestroyDoesNothingStore(),
        supports: resolveCapabilities({}),
      });
      await expect(run).rejects.toThrow(/the store should hold nothing under koa:sess:/);
    });

    it(`passes ${path.name} with the correct store`, () =>
      runLifecyclePath(path, { factory: () => new JsonMapStore(), supports: resolveCapabilities({}) }));
  }
});
