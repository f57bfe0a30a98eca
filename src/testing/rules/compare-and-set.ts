/**
 * The `compareAndSet` capability (`getVersioned(key)` and `compareAndSet(key, session, ttl,
 * expected)`): the middleware fences every write of a session with it, so a store that has it must
 * never apply a write whose expected version is no longer the entry's (a write that outlived its
 * request would then undo a newer one), and must compare and write in one step.
 */
import type { StoredSession } from '../../index.js';
import { described } from '../failure.js';
import { entriesExpire } from './expiry.js';
import { LONG_TTL, sessionOf, type Probe, type RuleGroup } from './probe.js';

/** How many writers race for one version in the atomicity rule. */
const RACERS = 16;

interface Versioned {
  session: Record<string, any>;
  version: string;
}

type Reply = { written: true; version: string } | { written: false; current?: Versioned };

const isVersioned = (entry: unknown): entry is Versioned => {
  const { session, version } = (entry ?? {}) as Partial<Versioned>;
  return typeof version === 'string' && session !== null && typeof session === 'object';
};

/** `getVersioned(key)`, checked to be `{ session, version }` with a string version, or nothing. */
async function versioned(s: Probe, key: string): Promise<Versioned | undefined> {
  const entry: unknown = await s.call('getVersioned', key);
  if (!entry) return undefined;
  s.check(
    isVersioned(entry),
    key,
    'getVersioned() gave no { session, version }',
    described('{ session, version }'),
    entry,
  );
  return entry as Versioned;
}

/** `getVersioned(key)` of an entry the rule has just written. */
async function versionOf(s: Probe, key: string): Promise<Versioned> {
  const entry = await versioned(s, key);
  s.check(entry !== undefined, key, 'getVersioned() gave nothing for an entry just set', described('the entry'), entry);
  return entry!;
}

/** Fails the rule with `message` unless `reply` says the compare-and-set wrote. */
function expectWritten(s: Probe, key: string, reply: Reply, message: string): void {
  s.check(reply.written, key, message, described('written'), reply);
}

/** Fails the rule with `message` unless `reply` says the compare-and-set wrote nothing. */
function expectRefused(s: Probe, key: string, reply: Reply, message: string): void {
  s.check(!reply.written, key, message, described('nothing written'), reply);
}

/** `compareAndSet(…)`, its reply checked to be `{ written: true, version }` or `{ written: false, current? }`. */
async function compareAndSet(
  s: Probe,
  key: string,
  session: StoredSession,
  expected: string | null,
  ttl: number = LONG_TTL,
): Promise<Reply> {
  const reply = (await s.call('compareAndSet', key, session, ttl, expected)) as
    { written?: unknown; version?: unknown; current?: unknown } | undefined;
  const shape = described('{ written: true, version } or { written: false, current? }');
  s.check(typeof reply?.written === 'boolean', key, 'compareAndSet() replied something else', shape, reply);
  if (reply!.written)
    s.check(typeof reply!.version === 'string', key, 'compareAndSet() wrote without a version', shape, reply);
  else if (reply!.current !== undefined)
    s.check(isVersioned(reply!.current), key, 'compareAndSet() replied a current that is no entry', shape, reply);
  return reply as Reply;
}

export const compareAndSetRules: RuleGroup = {
  capability: 'compareAndSet',
  rules: [
    {
      rule: 'getVersioned gives what get gives, with a version, and nothing for a missing key',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        const entry = await versionOf(s, key);
        s.same(key, entry.session, sessionOf({ n: 1 }), 'getVersioned() after set() gave another session');
        const missing = s.key();
        s.nothing(missing, await versioned(s, missing), 'getVersioned() of a key never set gave an entry');
      },
    },
    {
      rule: 'compareAndSet with the version read writes the session and returns its new version',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        const read = await versionOf(s, key);
        const reply = await compareAndSet(s, key, sessionOf({ n: 2 }), read.version);
        expectWritten(s, key, reply, 'compareAndSet() with the version just read did not write');
        const got = await s.get(key);
        s.check(
          got?.n === 2,
          key,
          'compareAndSet() said it wrote, but get() gives another session',
          sessionOf({ n: 2 }),
          got,
        );
        const again = await versionOf(s, key);
        s.equal(
          key,
          again.version,
          (reply as { version: string }).version,
          'the version compareAndSet() returned is not what getVersioned() reads',
        );
        // The version it returned is what the next write of the same writer expects.
        const next = await compareAndSet(s, key, sessionOf({ n: 3 }), again.version);
        expectWritten(s, key, next, 'compareAndSet() with the version its last write returned did not write');
      },
    },
    {
      rule: 'compareAndSet with a stale version writes nothing and returns the newer entry',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        const stale = await versionOf(s, key);
        // Another writer: a plain set, then a compare-and-set of its own.
        await s.set(key, sessionOf({ n: 2 }), LONG_TTL);
        const reply = await compareAndSet(s, key, sessionOf({ n: 'stale' }), stale.version);
        expectRefused(
          s,
          key,
          reply,
          'compareAndSet() wrote with the version read before another set(): a write that outlived its request would undo a newer one',
        );
        const current = reply.written ? undefined : reply.current;
        s.check(
          current?.session.n === 2,
          key,
          'a stale compareAndSet() did not reply the newer entry',
          sessionOf({ n: 2 }),
          current,
        );
        s.same(key, await s.get(key), sessionOf({ n: 2 }), 'a stale compareAndSet() changed the entry');
        const fresh = await versionOf(s, key);
        const written = await compareAndSet(s, key, sessionOf({ n: 3 }), fresh.version);
        expectWritten(s, key, written, 'compareAndSet() with the version just read did not write');
        const again = await compareAndSet(s, key, sessionOf({ n: 'stale' }), fresh.version);
        expectRefused(s, key, again, 'compareAndSet() wrote with a version another compareAndSet() had replaced');
        s.same(key, await s.get(key), sessionOf({ n: 3 }), 'a stale compareAndSet() changed the entry');
      },
    },
    {
      rule: 'compareAndSet expecting no entry creates a missing key, and writes nothing over an entry',
      body: async (s) => {
        const key = s.key();
        const created = await compareAndSet(s, key, sessionOf({ n: 1 }), null);
        expectWritten(s, key, created, 'compareAndSet() of a key never set, expecting none, did not write');
        s.same(
          key,
          await s.get(key),
          sessionOf({ n: 1 }),
          'compareAndSet() said it created the entry, but get() does not give it',
        );
        const reply = await compareAndSet(s, key, sessionOf({ n: 'over' }), null);
        expectRefused(s, key, reply, 'compareAndSet() expecting no entry wrote over an existing one');
        const current = reply.written ? undefined : reply.current;
        s.check(
          current?.session.n === 1,
          key,
          'compareAndSet() expecting no entry did not reply the entry that is there',
          sessionOf({ n: 1 }),
          current,
        );
        s.same(
          key,
          await s.get(key),
          sessionOf({ n: 1 }),
          'compareAndSet() expecting no entry changed an existing one',
        );
      },
    },
    {
      rule: 'compareAndSet of a destroyed key writes nothing and says it is gone',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        const read = await versionOf(s, key);
        await s.destroy(key);
        const reply = await compareAndSet(s, key, sessionOf({ n: 2 }), read.version);
        s.check(
          !reply.written && reply.current === undefined,
          key,
          'compareAndSet() of a destroyed key did not answer { written: false } without a current (a logout would be undone)',
          described('{ written: false }'),
          reply,
        );
        s.nothing(key, await s.get(key), 'compareAndSet() of a destroyed key brought it back');
      },
    },
    {
      rule: 'compareAndSet sets the ttl it is given',
      needs: ['ttl'],
      body: (s) =>
        entriesExpire(s, 'an entry written by compareAndSet()', async (key, ttl) => {
          await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
          const read = await versionOf(s, key);
          const reply = await compareAndSet(s, key, sessionOf({ n: 2 }), read.version, ttl);
          expectWritten(s, key, reply, 'compareAndSet() with the version just read did not write');
        }),
    },
    {
      rule: 'of concurrent compareAndSets expecting the same version, exactly one writes',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 0 }), LONG_TTL);
        const read = await versionOf(s, key);
        const replies = await Promise.all(
          Array.from({ length: RACERS }, (_, i) => compareAndSet(s, key, sessionOf({ n: i + 1 }), read.version)),
        );
        const winners = replies.flatMap((r, i) => (r.written ? [i + 1] : []));
        s.check(
          winners.length === 1,
          key,
          `${winners.length} of ${RACERS} concurrent compareAndSet() calls expecting one version wrote (the compare and the write are not one step)`,
          described('exactly one written'),
          winners,
        );
        s.same(
          key,
          await s.get(key),
          sessionOf({ n: winners[0] }),
          'the entry is not what the one compareAndSet() that wrote wrote',
        );
      },
    },
  ],
};
