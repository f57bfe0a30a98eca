/**
 * The kit's rules for the `compareAndSet` capability (`getVersioned` and `compareAndSet`): the
 * middleware fences every write of a session with it, so a store that declares it must never apply
 * a write whose expected version is no longer the entry's (a write that outlived its request would
 * then undo a newer one), and must do the compare and the write in one step.
 *
 * Each rule is `{ rule, needs, body }`, run as the store contract runs its own: a fresh store, keys
 * of the rule's own (cleaned up after it), and an error whose message says what was expected and
 * what the store did.
 */
import assert from 'node:assert/strict';
import type { StoredSession } from '../../index.js';

/** What a rule uses of its store (the contract's probe gives it): its own keys and the plain calls. */
export interface CompareAndSetProbe {
  /** The store, its capability methods called as they are. */
  readonly store: Record<string, any>;
  /** A key of the rule's own, destroyed after it. */
  key(name?: string): string;
  get(key: string): Promise<any>;
  set(key: string, value: unknown, ttl?: number): Promise<unknown>;
  destroy(key: string): Promise<unknown>;
  /** Resolves with the ms it waited once `get(key)` gives nothing, `undefined` after `bound` ms. */
  goneWithin(key: string, bound: number): Promise<number | undefined>;
  /** The longest an entry may outlive its ttl. */
  readonly ttlBound: number;
}

export interface CompareAndSetRule {
  rule: string;
  /** The capabilities the rule needs declared. */
  needs: ('compareAndSet' | 'ttl')[];
  body: (s: CompareAndSetProbe) => Promise<void>;
}

const LONG_TTL = 60_000;
const SHORT_TTL = 100;
/** How many writers race for one version in the atomicity rule. */
const RACERS = 16;

function sessionOf(fields: Record<string, unknown>): StoredSession {
  return { cookie: { path: '/', httpOnly: true, maxAge: LONG_TTL, sameSite: 'lax' }, ...fields };
}

interface Versioned {
  session: Record<string, any>;
  version: string;
}

/** `getVersioned(key)`, checked to be an entry with a string version (or nothing). */
async function versioned(s: CompareAndSetProbe, key: string): Promise<Versioned | undefined> {
  const entry: unknown = await s.store.getVersioned(key);
  if (!entry) return undefined;
  const { session, version } = entry as Partial<Versioned>;
  assert.equal(typeof version, 'string', `getVersioned() gave ${JSON.stringify(entry)}, whose version is not a string`);
  assert.ok(session && typeof session === 'object', `getVersioned() gave ${JSON.stringify(entry)}, without a session`);
  return entry as Versioned;
}

type Reply = { written: true; version: string } | { written: false; current?: Versioned };

/** `compareAndSet(…)`, its reply checked to be `{ written: true, version }` or `{ written: false, current? }`. */
async function compareAndSet(
  s: CompareAndSetProbe,
  key: string,
  session: StoredSession,
  expected: string | null,
  ttl: number = LONG_TTL,
): Promise<Reply> {
  const reply = (await s.store.compareAndSet(key, session, ttl, expected)) as Partial<Reply & { current: unknown }>;
  const shown = JSON.stringify(reply);
  assert.ok(reply && typeof reply.written === 'boolean', `compareAndSet() replied ${shown}, not { written, … }`);
  if (reply.written) assert.equal(typeof reply.version, 'string', `compareAndSet() wrote but replied ${shown}`);
  else if (reply.current !== undefined) {
    const current = reply.current as Partial<Versioned>;
    assert.ok(
      typeof current.version === 'string' && current.session && typeof current.session === 'object',
      `compareAndSet() replied ${shown}: its current is not { session, version }`,
    );
  }
  return reply as Reply;
}

export const COMPARE_AND_SET_RULES: CompareAndSetRule[] = [
  {
    rule: 'getVersioned gives what get gives, with a version, and nothing for a missing key',
    needs: ['compareAndSet'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      const entry = await versioned(s, key);
      assert.equal(entry?.session.n, 1, `getVersioned() after set() gave ${JSON.stringify(entry)}`);
      const missing = await versioned(s, s.key('never-set'));
      assert.equal(missing, undefined, `getVersioned() of a key never set gave ${JSON.stringify(missing)}`);
    },
  },
  {
    rule: 'compareAndSet with the version read writes the session and returns its new version',
    needs: ['compareAndSet'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      const read = (await versioned(s, key))!;
      const reply = await compareAndSet(s, key, sessionOf({ n: 2 }), read.version);
      assert.ok(reply.written, `compareAndSet() with the version just read did not write: ${JSON.stringify(reply)}`);
      assert.equal((await s.get(key))?.n, 2, 'compareAndSet() said it wrote, but get() does not give the session');
      const again = (await versioned(s, key))!;
      assert.equal(
        again.version,
        reply.version,
        'the version compareAndSet() returned is not what getVersioned() reads',
      );
      // The version it returned is what the next write of the same writer expects.
      const next = await compareAndSet(s, key, sessionOf({ n: 3 }), reply.version);
      assert.ok(next.written, 'compareAndSet() with the version its last write returned did not write');
    },
  },
  {
    rule: 'compareAndSet with a stale version writes nothing and returns the newer entry',
    needs: ['compareAndSet'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      const stale = (await versioned(s, key))!;
      // Another writer: a plain set, then a compare-and-set of its own.
      await s.set(key, sessionOf({ n: 2 }), LONG_TTL);
      let reply = await compareAndSet(s, key, sessionOf({ n: 'stale' }), stale.version);
      assert.ok(
        !reply.written,
        'compareAndSet() wrote with the version read before another set(): a write that outlived its request would undo a newer one',
      );
      assert.equal(
        reply.current?.session.n,
        2,
        `a stale compareAndSet() replied ${JSON.stringify(reply)}, not the newer entry`,
      );
      assert.equal((await s.get(key))?.n, 2, 'a stale compareAndSet() changed the entry');
      const fresh = (await versioned(s, key))!;
      assert.ok(
        (await compareAndSet(s, key, sessionOf({ n: 3 }), fresh.version)).written,
        'a fresh version did not write',
      );
      reply = await compareAndSet(s, key, sessionOf({ n: 'stale' }), fresh.version);
      assert.ok(!reply.written, 'compareAndSet() wrote with a version another compareAndSet() had replaced');
      assert.equal((await s.get(key))?.n, 3, 'a stale compareAndSet() changed the entry');
    },
  },
  {
    rule: 'compareAndSet expecting no entry creates a missing key, and writes nothing over an entry',
    needs: ['compareAndSet'],
    body: async (s) => {
      const key = s.key();
      const created = await compareAndSet(s, key, sessionOf({ n: 1 }), null);
      assert.ok(
        created.written,
        `compareAndSet() of a key never set, expecting none, did not write: ${JSON.stringify(created)}`,
      );
      assert.equal((await s.get(key))?.n, 1, 'compareAndSet() said it created the entry, but get() does not give it');
      const reply = await compareAndSet(s, key, sessionOf({ n: 'over' }), null);
      assert.ok(!reply.written, 'compareAndSet() expecting no entry wrote over an existing one');
      assert.equal(reply.current?.session.n, 1, `it replied ${JSON.stringify(reply)}, not the entry that is there`);
      assert.equal((await s.get(key))?.n, 1, 'compareAndSet() expecting no entry changed an existing one');
    },
  },
  {
    rule: 'compareAndSet of a destroyed key writes nothing and says it is gone',
    needs: ['compareAndSet'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      const read = (await versioned(s, key))!;
      await s.destroy(key);
      const reply = await compareAndSet(s, key, sessionOf({ n: 2 }), read.version);
      assert.ok(!reply.written, 'compareAndSet() brought back a destroyed entry (a logout would be undone)');
      assert.equal(reply.current, undefined, `compareAndSet() of a destroyed key replied ${JSON.stringify(reply)}`);
      assert.ok(!(await s.get(key)), 'compareAndSet() of a destroyed key created it');
    },
  },
  {
    rule: 'compareAndSet sets the ttl it is given',
    needs: ['compareAndSet', 'ttl'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
      const read = (await versioned(s, key))!;
      assert.ok((await compareAndSet(s, key, sessionOf({ n: 2 }), read.version, SHORT_TTL)).written);
      const waited = await s.goneWithin(key, s.ttlBound);
      assert.ok(
        waited !== undefined,
        `an entry written with a ttl of ${SHORT_TTL} ms was still there ${s.ttlBound} ms later`,
      );
    },
  },
  {
    rule: 'of concurrent compareAndSets expecting the same version, exactly one writes',
    needs: ['compareAndSet'],
    body: async (s) => {
      const key = s.key();
      await s.set(key, sessionOf({ n: 0 }), LONG_TTL);
      const read = (await versioned(s, key))!;
      const replies = await Promise.all(
        Array.from({ length: RACERS }, (_, i) => compareAndSet(s, key, sessionOf({ n: i + 1 }), read.version)),
      );
      const winners = replies.flatMap((r, i) => (r.written ? [i + 1] : []));
      assert.equal(
        winners.length,
        1,
        `${winners.length} of ${RACERS} concurrent compareAndSet() calls expecting one version wrote (the compare and the write are not one step)`,
      );
      assert.equal((await s.get(key))?.n, winners[0], 'the entry is not what the one compareAndSet() that wrote wrote');
    },
  },
];
