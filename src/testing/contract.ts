/**
 * The store contract, as named checks. Each check gets a fresh store from the author's factory,
 * uses keys of its own, cleans them up, and fails with an error whose message starts with the rule
 * it checks. Checks of optional capabilities run only when the capability is declared; the first
 * check makes sure the declaration matches the store's methods (the middleware uses every optional
 * method a store has, declared or not).
 *
 * Timing: nothing here asserts that a store is fast. Expiry is awaited by polling, bounded by
 * `ttlBound`; the only fixed waits are short ones that a broken lock would fail and a working one
 * cannot, and the index expiry rule's wait of half the entry's life, after which the entry must
 * still be listed (checked only when the list answered before the expiry).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { OwnerIndexEntry, SessionStore, StoredSession } from '../index.js';
import { resolveCapabilities, type ResolvedCapabilities, type StoreCapabilities } from './instrumented.js';

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

/** The ttl, in ms, of the entries the ttl rules watch expire. */
const SHORT_TTL = 100;
const LONG_TTL = 60_000;
const POLL = 20;
/** How long after indexAdd() the expiry rule's entry expires: it must still be listed half-way. */
const INDEX_TTL = 1_000;

type Loose = Record<string, any>;

/** A store call's value: a plain value, a Promise, or a callback thunk (as the middleware accepts). */
function settle(result: unknown): Promise<any> {
  if (typeof result === 'function') {
    return new Promise((resolve, reject) =>
      (result as (cb: (err: unknown, v?: unknown) => void) => void)((err, v) => (err ? reject(err) : resolve(v))),
    );
  }
  return Promise.resolve(result);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An index entry as the middleware writes one. */
function indexEntry(key: string, info?: Record<string, unknown>): OwnerIndexEntry {
  const now = Date.now();
  return { key, createdAt: now, lastSeenAt: now, ...(info ? { info } : {}) };
}

/** A session as the middleware writes one. */
function sessionOf(fields: Record<string, unknown> = {}): StoredSession {
  return { cookie: { path: '/', httpOnly: true, maxAge: LONG_TTL, sameSite: 'lax' }, ...fields };
}

/** JSON's view of a value: a `cookie.expires` Date and its ISO string compare equal. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** A check's view of its store: its keys, calls that accept every kind of store answer, cleanup. */
class Probe {
  private readonly keys = new Set<string>();
  private readonly owners = new Set<string>();
  constructor(
    readonly store: Loose,
    private readonly tag: string,
    readonly ttlBound: number,
  ) {}

  key(name = 'k'): string {
    const key = `ksm-conformance:${this.tag}:${name}`;
    this.keys.add(key);
    return key;
  }
  get(key: string): Promise<any> {
    return settle(this.store.get(key));
  }
  set(key: string, value: unknown, ttl?: number): Promise<unknown> {
    return settle(this.store.set(key, value, ttl));
  }
  destroy(key: string): Promise<unknown> {
    return settle(this.store.destroy(key));
  }
  /** An owner key of this check's own (the `index` capability), emptied by cleanup. */
  ownerKey(name = 'owner'): string {
    const key = `ksm-conformance:${this.tag}:owner:${name}`;
    this.owners.add(key);
    return key;
  }
  indexAdd(ownerKey: string, handle: string, entry: OwnerIndexEntry, expiresAt: number): Promise<unknown> {
    return settle(this.store.indexAdd(ownerKey, handle, entry, expiresAt));
  }
  indexRemove(ownerKey: string, handle: string): Promise<unknown> {
    return settle(this.store.indexRemove(ownerKey, handle));
  }
  /** `indexList(ownerKey)` as a Map of handle to entry, failing when it is not a list of `{ handle, entry }`. */
  async indexList(ownerKey: string): Promise<Map<string, OwnerIndexEntry>> {
    const listed: unknown = await settle(this.store.indexList(ownerKey));
    assert.ok(Array.isArray(listed), `indexList() gave ${JSON.stringify(listed)}, not an array`);
    const byHandle = new Map<string, OwnerIndexEntry>();
    for (const item of listed as { handle?: unknown; entry?: unknown }[]) {
      assert.ok(
        typeof item?.handle === 'string' && item.entry !== null && typeof item.entry === 'object',
        `indexList() gave ${JSON.stringify(item)}, not { handle, entry }`,
      );
      assert.ok(!byHandle.has(item.handle), `indexList() gave the handle ${item.handle} twice`);
      byHandle.set(item.handle, normalize(item.entry) as OwnerIndexEntry);
    }
    return byHandle;
  }
  /** Resolves once `get(key)` gives a falsy value; rejects with how long it waited after `bound`. */
  async goneWithin(key: string, bound: number): Promise<number | undefined> {
    const start = Date.now();
    for (;;) {
      if (!(await this.get(key))) return Date.now() - start;
      if (Date.now() - start > bound) return undefined;
      await sleep(POLL);
    }
  }
  async cleanup(): Promise<void> {
    for (const ownerKey of this.owners) {
      try {
        for (const handle of (await this.indexList(ownerKey)).keys()) await this.indexRemove(ownerKey, handle);
      } catch {
        // Best effort, as for keys.
      }
    }
    for (const key of this.keys) {
      try {
        await this.destroy(key);
      } catch {
        // Best effort: the check's result is what matters.
      }
    }
  }
}

type Body = (s: Probe, supports: ResolvedCapabilities) => Promise<void>;

interface Rule {
  rule: string;
  needs?: (keyof ResolvedCapabilities)[];
  body: Body;
}

const RULES: Rule[] = [
  {
    rule: 'the declared capabilities match the store',
    body: async (s, supports) => {
      for (const method of ['get', 'set', 'destroy']) {
        assert.equal(typeof s.store[method], 'function', `a store needs a ${method}() method`);
      }
      for (const capability of ['touch', 'update', 'add', 'lock'] as const) {
        const has = typeof s.store[capability] === 'function';
        if (supports[capability])
          assert.ok(has, `supports.${capability} is declared but the store has no ${capability}() method`);
        else {
          assert.ok(
            !has,
            `the store has a ${capability}() method but supports.${capability} is not declared; ` +
              'the middleware uses every method a store has, so declare it and let the kit test it',
          );
        }
      }
      const indexMethods = ['indexAdd', 'indexRemove', 'indexList'];
      const indexing = indexMethods.filter((m) => typeof s.store[m] === 'function');
      if (supports.index) {
        const lacking = indexMethods.filter((m) => !indexing.includes(m));
        assert.ok(
          lacking.length === 0,
          `supports.index is declared but the store has no ${lacking.map((m) => `${m}()`).join(', ')}`,
        );
      } else {
        assert.ok(
          indexing.length === 0,
          `the store has ${indexing.map((m) => `${m}()`).join(', ')} but supports.index is not declared; ` +
            "the middleware's owner option uses the index of any store that has it, so declare it and let the kit test it",
        );
      }
      const evented = typeof s.store.on === 'function';
      if (supports.events) assert.ok(evented, 'supports.events is declared but the store has no on() method');
      else {
        assert.ok(
          !evented,
          'the store has an on() method but supports.events is not declared; the middleware listens to the ' +
            'connect/disconnect events of every store that has on(), so declare it',
        );
      }
    },
  },
  {
    rule: 'get after set returns what was set',
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ user: 'alice', n: 1 }), LONG_TTL);
      const got = await s.get(key);
      assert.ok(got, `get() gave ${String(got)} right after set()`);
      assert.deepEqual(normalize(got), normalize(sessionOf({ user: 'alice', n: 1 })));
    },
  },
  {
    rule: 'a missing key gives a falsy value',
    body: async (s) => {
      await s.set(s.key('present'), sessionOf({ n: 1 }), LONG_TTL);
      for (const key of [s.key('never-set'), s.key('never-set-either')]) {
        const got = await s.get(key);
        assert.ok(!got, `get() of a key never set gave ${JSON.stringify(got)}`);
      }
    },
  },
  {
    rule: 'set overwrites an existing entry',
    body: async (s) => {
      const key = s.key();
      for (let n = 1; n <= 3; n++) {
        await s.set(key, sessionOf({ n }), LONG_TTL);
        const got = await s.get(key);
        assert.equal(got?.n, n, `after set() number ${n}, get() gave ${JSON.stringify(got)}`);
      }
    },
  },
  {
    rule: 'values round-trip, a Date in cookie.expires included',
    body: async (s) => {
      const key = s.key();
      const expires = new Date(Date.now() + LONG_TTL);
      expires.setMilliseconds(0);
      const value = sessionOf({
        text: 'ünïcødé ✓ 🍪 "quoted" \\ <tag>',
        empty: '',
        numbers: [0, -1.5, 2 ** 53 - 1, 1e-7],
        flags: { yes: true, no: false, nothing: null },
        nested: { list: [{ a: 1 }, [2, [3]], {}], deep: { deeper: { deepest: 'x' } } },
        emptyList: [],
      });
      value.cookie = { path: '/', httpOnly: true, secure: false, sameSite: 'strict', expires };
      await s.set(key, value, LONG_TTL);
      const got = await s.get(key);
      assert.ok(got, `get() gave ${String(got)} right after set()`);
      const back = got.cookie?.expires;
      assert.ok(
        (back instanceof Date && back.getTime() === expires.getTime()) || back === expires.toISOString(),
        `cookie.expires came back as ${JSON.stringify(back)} (${typeof back}); expected a Date or the ISO string ${expires.toISOString()}`,
      );
      assert.deepEqual(normalize(got), normalize(value));
    },
  },
  {
    rule: 'an entry is gone after its ttl',
    needs: ['ttl'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), SHORT_TTL);
      const waited = await s.goneWithin(key, s.ttlBound);
      assert.ok(
        waited !== undefined,
        `an entry set with a ttl of ${SHORT_TTL} ms was still there ${s.ttlBound} ms later (is the ttl read as ms?)`,
      );
    },
  },
  {
    rule: 'destroy removes the entry',
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      await s.destroy(key);
      const got = await s.get(key);
      assert.ok(!got, `get() after destroy() gave ${JSON.stringify(got)}`);
      await s.destroy(s.key('never-set'));
    },
  },
  {
    rule: 'a session read before destroy is not returned after it',
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      assert.ok(await s.get(key), 'get() after set() gave nothing');
      await s.destroy(key);
      const got = await s.get(key);
      assert.ok(!got, `get() after destroy() gave ${JSON.stringify(got)}, the session read before it`);
    },
  },
  {
    rule: 'the object passed to set is not shared with the store',
    body: async (s) => {
      const key = s.key();
      const value = sessionOf({ n: 1, list: [1], nested: { x: 1 } });
      await s.set(key, value, LONG_TTL);
      value.n = 2;
      (value.list as number[]).push(2);
      (value.nested as Record<string, number>).x = 2;
      value.cookie.maxAge = 1;
      const got = await s.get(key);
      assert.deepEqual(
        normalize(got),
        normalize(sessionOf({ n: 1, list: [1], nested: { x: 1 } })),
        'changing the object after set() changed what the store returns',
      );
    },
  },
  {
    rule: 'the object returned by get is not shared with the store',
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1, nested: { x: 1 } }), LONG_TTL);
      const first = await s.get(key);
      first.n = 99;
      first.nested.x = 99;
      first.cookie.path = '/changed';
      const second = await s.get(key);
      assert.notEqual(second, first, 'get() returned the same object twice');
      assert.deepEqual(
        normalize(second),
        normalize(sessionOf({ n: 1, nested: { x: 1 } })),
        'changing the object get() returned changed what the store returns',
      );
    },
  },
  {
    rule: 'concurrent calls on different keys do not interfere',
    body: async (s) => {
      const keys = Array.from({ length: 32 }, (_, i) => s.key(`c${i}`));
      await Promise.all(keys.map((key, i) => s.set(key, sessionOf({ i }), LONG_TTL)));
      const first = await Promise.all(keys.map((key) => s.get(key)));
      first.forEach((got, i) =>
        assert.equal(got?.i, i, `after 32 concurrent set() calls, get(${keys[i]}) gave ${JSON.stringify(got)}`),
      );
      await Promise.all(
        keys.map((key, i) => (i % 2 === 0 ? s.destroy(key) : s.set(key, sessionOf({ i: i + 100 }), LONG_TTL))),
      );
      const second = await Promise.all(keys.map((key) => s.get(key)));
      second.forEach((got, i) => {
        if (i % 2 === 0)
          assert.ok(
            !got,
            `after concurrent destroy() and set() calls, destroyed ${keys[i]} gave ${JSON.stringify(got)}`,
          );
        else
          assert.equal(
            got?.i,
            i + 100,
            `after concurrent destroy() and set() calls, rewritten ${keys[i]} gave ${JSON.stringify(got)}`,
          );
      });
    },
  },
  {
    rule: 'a value the store cannot keep is reported, not swallowed',
    body: async (s) => {
      // JSON cannot hold a BigInt: a store that serializes must fail the call; one that keeps
      // values some other way must give it back intact. Resolving and losing it is the defect.
      const key = s.key();
      let reported = false;
      try {
        await s.set(key, sessionOf({ big: 10n }), LONG_TTL);
      } catch {
        reported = true;
      }
      if (reported) return;
      const got = await s.get(key);
      assert.equal(
        got?.big,
        10n,
        `set() of a value with a BigInt resolved, but get() gave back ${String(got && typeof got === 'object' ? `an object whose big is ${String(got.big)}` : got)}: the failure was swallowed`,
      );
    },
  },
  {
    rule: 'update rewrites an existing entry and returns true',
    needs: ['update'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      const ok = await settle(s.store.update(key, sessionOf({ n: 2 }), LONG_TTL));
      assert.equal(ok, true, `update() of an existing key returned ${String(ok)}`);
      assert.equal((await s.get(key))?.n, 2, 'update() did not write the session');
    },
  },
  {
    rule: 'update of a missing or destroyed key returns false and writes nothing',
    needs: ['update'],
    body: async (s) => {
      const missing = s.key('missing');
      const ok = await settle(s.store.update(missing, sessionOf({ n: 1 }), LONG_TTL));
      assert.equal(ok, false, `update() of a key never set returned ${String(ok)}`);
      assert.ok(!(await s.get(missing)), 'update() of a key never set created it');
      const key = s.key('destroyed');
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      await s.destroy(key);
      const again = await settle(s.store.update(key, sessionOf({ n: 2 }), LONG_TTL));
      assert.equal(again, false, `update() of a destroyed key returned ${String(again)}`);
      assert.ok(!(await s.get(key)), 'update() of a destroyed key brought it back');
    },
  },
  {
    rule: 'update sets the ttl it is given',
    needs: ['update', 'ttl'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      assert.equal(
        await settle(s.store.update(key, sessionOf({ n: 2 }), SHORT_TTL)),
        true,
        'update() of an existing key did not return true',
      );
      const waited = await s.goneWithin(key, s.ttlBound);
      assert.ok(
        waited !== undefined,
        `an entry updated with a ttl of ${SHORT_TTL} ms was still there ${s.ttlBound} ms later`,
      );
    },
  },
  {
    rule: 'add writes a missing key and returns true',
    needs: ['add'],
    body: async (s) => {
      const key = s.key();
      const ok = await settle(s.store.add(key, sessionOf({ n: 1 }), LONG_TTL));
      assert.equal(ok, true, `add() of a key never set returned ${String(ok)}`);
      assert.equal((await s.get(key))?.n, 1, 'add() did not write the session');
    },
  },
  {
    rule: 'add of an existing key returns false and leaves the entry as it was',
    needs: ['add'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      const ok = await settle(s.store.add(key, sessionOf({ n: 2 }), LONG_TTL));
      assert.equal(ok, false, `add() of an existing key returned ${String(ok)}`);
      assert.equal((await s.get(key))?.n, 1, 'add() of an existing key overwrote it');
      // Once the entry is gone, add() may create it again.
      await s.destroy(key);
      assert.equal(
        await settle(s.store.add(key, sessionOf({ n: 3 }), LONG_TTL)),
        true,
        'add() after destroy() returned false',
      );
      assert.equal((await s.get(key))?.n, 3, 'add() after destroy() did not write the session');
    },
  },
  {
    rule: 'add sets the ttl it is given',
    needs: ['add', 'ttl'],
    body: async (s) => {
      const key = s.key();
      assert.equal(
        await settle(s.store.add(key, sessionOf({ n: 1 }), SHORT_TTL)),
        true,
        'add() of a key never set did not return true',
      );
      assert.ok((await s.get(key))?.n === 1, `an entry added with a ttl of ${SHORT_TTL} ms was not there right after`);
      const waited = await s.goneWithin(key, s.ttlBound);
      assert.ok(
        waited !== undefined,
        `an entry added with a ttl of ${SHORT_TTL} ms was still there ${s.ttlBound} ms later`,
      );
    },
  },
  {
    rule: 'touch keeps the value and returns true',
    needs: ['touch'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      const ok = await settle(s.store.touch(key, LONG_TTL));
      assert.equal(ok, true, `touch() of an existing key returned ${String(ok)}`);
      assert.deepEqual(
        normalize(await s.get(key)),
        normalize(sessionOf({ n: 1 })),
        'touch() changed the stored session',
      );
    },
  },
  {
    rule: 'touch of a missing or destroyed key returns false and creates nothing',
    needs: ['touch'],
    body: async (s) => {
      const missing = s.key('missing');
      const ok = await settle(s.store.touch(missing, LONG_TTL));
      assert.equal(ok, false, `touch() of a key never set returned ${String(ok)}`);
      assert.ok(!(await s.get(missing)), 'touch() of a key never set created it');
      const key = s.key('destroyed');
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      await s.destroy(key);
      const again = await settle(s.store.touch(key, LONG_TTL));
      assert.equal(again, false, `touch() of a destroyed key returned ${String(again)}`);
      assert.ok(!(await s.get(key)), 'touch() of a destroyed key brought it back');
    },
  },
  {
    rule: 'touch sets the expiry it is given',
    needs: ['touch', 'ttl'],
    body: async (s) => {
      // Shortening the expiry shows that touch() sets it, without waiting out a long ttl.
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      assert.equal(await settle(s.store.touch(key, SHORT_TTL)), true, 'touch() of an existing key did not return true');
      const waited = await s.goneWithin(key, s.ttlBound);
      assert.ok(
        waited !== undefined,
        `an entry touched with a ttl of ${SHORT_TTL} ms was still there ${s.ttlBound} ms later`,
      );
    },
  },
  {
    rule: 'lock serializes the holders of one key',
    needs: ['lock'],
    body: async (s) => {
      // Read-modify-write under the lock, with a pause in the middle: without mutual exclusion,
      // updates are lost.
      const key = s.key();
      await s.set(key, sessionOf({ n: 0 }), LONG_TTL);
      const workers = 8;
      await Promise.all(
        Array.from({ length: workers }, async () => {
          const lock = await settle(s.store.lock(key, { lease: 10_000, wait: 10_000 }));
          assert.ok(lock, 'lock() gave up while the others were only briefly held');
          try {
            const current = await s.get(key);
            await sleep(5);
            await s.set(key, sessionOf({ n: (current?.n as number) + 1 }), LONG_TTL);
          } finally {
            await settle(lock.release());
          }
        }),
      );
      assert.equal((await s.get(key))?.n, workers, `${workers} increments made under the lock`);
    },
  },
  {
    rule: 'lock gives up with no lock after its wait',
    needs: ['lock'],
    body: async (s) => {
      const key = s.key();
      const held = await settle(s.store.lock(key, { lease: 10_000, wait: 1_000 }));
      assert.ok(held, 'lock() of a free key gave no lock');
      try {
        const other = await settle(s.store.lock(key, { lease: 10_000, wait: 50 }));
        assert.ok(!other, 'a second lock() of a held key gave a lock');
      } finally {
        await settle(held.release());
      }
      const after = await settle(s.store.lock(key, { lease: 10_000, wait: 1_000 }));
      assert.ok(after, 'lock() after release() gave no lock');
      await settle(after.release());
    },
  },
  {
    rule: 'locks of different keys are independent',
    needs: ['lock'],
    body: async (s) => {
      const a = await settle(s.store.lock(s.key('a'), { lease: 10_000, wait: 1_000 }));
      assert.ok(a, 'lock() of a free key gave no lock');
      try {
        const b = await settle(s.store.lock(s.key('b'), { lease: 10_000, wait: 1_000 }));
        assert.ok(b, 'lock() of another key waited for the first lock and gave up');
        await settle(b.release());
      } finally {
        await settle(a.release());
      }
    },
  },
  {
    rule: 'an index entry is listed after indexAdd, and gone after indexRemove',
    needs: ['index'],
    body: async (s) => {
      const owner = s.ownerKey();
      assert.equal((await s.indexList(owner)).size, 0, 'indexList() of an owner never added to gave entries');
      const far = Date.now() + LONG_TTL;
      const first = indexEntry('k1', { agent: 'first browser' });
      const second = indexEntry('k2');
      await s.indexAdd(owner, 'h1', first, far);
      await s.indexAdd(owner, 'h2', second, far);
      const both = await s.indexList(owner);
      assert.deepEqual([...both.keys()].sort(), ['h1', 'h2'], 'indexList() after two indexAdd() calls');
      assert.deepEqual(
        both.get('h1'),
        normalize(first),
        'indexList() gave back another entry than indexAdd() was given',
      );
      await s.indexRemove(owner, 'h1');
      const after = await s.indexList(owner);
      assert.ok(
        !after.has('h1'),
        'indexList() still gives a handle after indexRemove() of it (a revoked or destroyed session stays listed)',
      );
      assert.deepEqual([...after.keys()], ['h2'], 'indexRemove() of one handle took another with it');
      // Removing what is not there is not an error.
      await s.indexRemove(owner, 'h1');
      await s.indexRemove(s.ownerKey('never-added'), 'h1');
      await s.indexRemove(owner, 'h2');
      assert.equal((await s.indexList(owner)).size, 0, 'indexList() after every handle was removed gave entries');
    },
  },
  {
    rule: 'indexAdd of a listed handle replaces its entry but keeps its createdAt',
    needs: ['index'],
    body: async (s) => {
      const owner = s.ownerKey();
      const far = Date.now() + LONG_TTL;
      const original = indexEntry('k', { agent: 'before' });
      await s.indexAdd(owner, 'h', original, far);
      const later = {
        ...indexEntry('k', { agent: 'after' }),
        createdAt: original.createdAt + 5_000,
        lastSeenAt: original.lastSeenAt + 5_000,
      };
      await s.indexAdd(owner, 'h', later, far);
      const listed = await s.indexList(owner);
      assert.equal(listed.size, 1, `two indexAdd() calls of one handle gave ${listed.size} entries`);
      assert.deepEqual(
        listed.get('h'),
        normalize({ ...later, createdAt: original.createdAt }),
        'the second indexAdd() of a handle',
      );
      // Once removed, a handle starts anew.
      await s.indexRemove(owner, 'h');
      await s.indexAdd(owner, 'h', later, far);
      assert.equal(
        (await s.indexList(owner)).get('h')?.createdAt,
        later.createdAt,
        'indexAdd() after indexRemove() kept the old createdAt',
      );
    },
  },
  {
    rule: 'an index entry is listed until its expiry, and gone after it',
    needs: ['index'],
    body: async (s) => {
      const owner = s.ownerKey();
      const expiresAt = Date.now() + INDEX_TTL;
      await s.indexAdd(owner, 'short', indexEntry('k1'), expiresAt);
      await s.indexAdd(owner, 'long', indexEntry('k2'), Date.now() + LONG_TTL);
      await s.indexAdd(owner, 'forever', indexEntry('k3'), Infinity);
      await sleep(INDEX_TTL / 2);
      const before = await s.indexList(owner);
      // Only a list that answered before the expiry can say whether the entry was still there.
      if (Date.now() < expiresAt)
        assert.ok(
          before.has('short'),
          `an index entry was gone before its expiry (${INDEX_TTL} ms after indexAdd(); is expiresAt read as ms since the epoch?)`,
        );
      const deadline = expiresAt + s.ttlBound;
      for (;;) {
        const listed = await s.indexList(owner);
        if (!listed.has('short')) {
          assert.ok(
            listed.has('long') && listed.has('forever'),
            'entries of a later expiry, or none (Infinity), went with the one that expired',
          );
          return;
        }
        assert.ok(Date.now() <= deadline, `an index entry was still listed ${s.ttlBound} ms after its expiry`);
        await sleep(POLL);
      }
    },
  },
  {
    rule: 'the indexes of different owners are independent',
    needs: ['index'],
    body: async (s) => {
      const [a, b] = [s.ownerKey('a'), s.ownerKey('b')];
      const far = Date.now() + LONG_TTL;
      await s.indexAdd(a, 'h', indexEntry('ka'), far);
      await s.indexAdd(b, 'h', indexEntry('kb'), far);
      assert.equal(
        (await s.indexList(a)).get('h')?.key,
        'ka',
        "one owner's indexAdd() of a handle replaced another owner's",
      );
      await s.indexRemove(b, 'h');
      assert.equal((await s.indexList(b)).size, 0, 'indexRemove() left the entry listed');
      assert.equal(
        (await s.indexList(a)).get('h')?.key,
        'ka',
        "one owner's indexRemove() of a handle removed another owner's",
      );
    },
  },
  {
    rule: 'events: on() takes connect and disconnect listeners, connected is a boolean when present',
    needs: ['events'],
    body: async (s) => {
      const noop = () => undefined;
      for (const event of ['connect', 'disconnect']) {
        s.store.on(event, noop);
        (s.store.off ?? s.store.removeListener)?.call(s.store, event, noop);
      }
      const connected = s.store.connected as unknown;
      assert.ok(
        connected === undefined || typeof connected === 'boolean',
        `connected is ${typeof connected}, not a boolean`,
      );
    },
  },
];

let runs = 0;

/**
 * The contract checks for a store, in order. Each `run()` builds its own store, and rejects with an
 * error whose message starts with the rule when the store breaks it.
 */
export function storeContract<S extends SessionStore>(options: StoreContractOptions<S>): StoreCheck[] {
  const supports = resolveCapabilities(options.supports);
  const ttlBound = options.ttlBound ?? 5_000;
  return RULES.map(({ rule, needs, body }) => {
    const missing = (needs ?? []).filter((n) => !supports[n]);
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
  });
}
