/**
 * Hostile store values, property-based (fast-check): whatever the store hands back for a sid that
 * is not a session (a string, an array, a number, corrupt JSON, a built-in prototype, an object with
 * an own `__proto__` key), the response is a 200 with a fresh session under a new sid, nothing
 * crashes, and no prototype changes; a stored session with hostile keys deeper down, or garbage
 * cookie options, is loaded as data.
 *
 * Naive: koa-generic-session uses whatever the store returns as the session when it is truthy: a
 * string, an array, a number, an object with an own `__proto__` key that a later copy turns into a
 * prototype change.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { closeApps } from '../helpers/apps.js';
import { PREFIX } from '../helpers/store-keys.js';
import { jsonStore, ScriptedStore } from '../helpers/legacy-stores.js';
import { prototypeGuard } from '../helpers/prototype-guard.js';
import {
  expectFresh,
  expectPrototypesUntouched,
  fcOptions,
  propertyRuns,
  rawGet,
  RUNS,
  type Sess,
  sidLike,
  start,
} from './fixtures/hostile-input.js';

afterEach(closeApps);

const ran = propertyRuns();

// What the store may answer.
const anything = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
  withObjectString: true,
  withBigInt: true,
  maxDepth: 3,
});

function isPlain(value: unknown): value is Sess {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** What the middleware takes for a session: a plain object with no own `__proto__` key (nor in its `cookie`). */
function isSession(value: unknown): boolean {
  if (!isPlain(value) || Object.hasOwn(value, '__proto__')) return false;
  const cookie = value.cookie;
  return cookie === undefined || (isPlain(cookie) && !Object.hasOwn(cookie, '__proto__'));
}

class Point {
  constructor(readonly user = 'evil') {}
}

const hostileValues = fc.constantFrom<unknown>(
  Object.prototype,
  JSON.parse('{"__proto__":{"polluted":"yes"},"user":"evil"}'),
  JSON.parse('{"cookie":{"__proto__":{"polluted":"yes"}},"user":"evil"}'),
  JSON.parse('{"__proto__":null,"user":"evil"}'),
  { cookie: 'not an object', user: 'evil' },
  { cookie: ['array'], user: 'evil' },
  { cookie: null, user: 'evil' },
  Object.create({ user: 'evil' }),
  new Point(),
  new Map([['user', 'evil']]),
  new Date(0),
  /user/,
  Buffer.from('{"user":"evil"}'),
  new String('{"user":"evil"}'),
  [{ user: 'evil' }],
  '{"user":"evil"}',
  42,
  -0,
  NaN,
  Infinity,
  true,
  Symbol('user'),
  10n,
);

/**
 * Values a store may answer that are not sessions. Functions are left out: a function answered by
 * `get` is a thunk, the answer of a co-era store, which is run (stores/legacy-stores.test.ts).
 */
const notFunction = (v: unknown) => typeof v !== 'function';
const notASession = fc.oneof(
  { arbitrary: anything.filter((v) => !isSession(v) && notFunction(v)), weight: 4 },
  { arbitrary: hostileValues, weight: 3 },
  { arbitrary: fc.string(), weight: 1 },
  { arbitrary: fc.array(anything, { maxLength: 4 }), weight: 1 },
  {
    arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined)),
    weight: 1,
  },
  // The same, answered asynchronously.
  { arbitrary: anything.filter((v) => !isSession(v) && notFunction(v)).map((v) => Promise.resolve(v)), weight: 1 },
);

describe('a hostile store value never crashes, never becomes a session, never pollutes', () => {
  it(
    `a store answering anything that is not a session: a fresh session under a new sid (${RUNS} runs)`,
    { timeout: 60_000 },
    async () => {
      const store = new ScriptedStore();
      const server = await start({ store });
      const login = await rawGet(server.url, '/login', undefined);
      const sid = login.body.sid as string;
      const cookie = login.setCookies
        .filter((c) => !c.expired)
        .map((c) => `${c.name}=${c.value}`)
        .join('; ');
      const guard = prototypeGuard();

      ran.storeValues = 0;
      await fc.assert(
        fc.asyncProperty(notASession, async (value) => {
          ran.storeValues!++;
          store.answer = () => value;
          const before = store.calls.length;
          const reply = await rawGet(server.url, '/', cookie);
          const fresh = expectFresh(reply, [sid], server);
          const calls = store.calls.slice(before);
          // A miss is followed by the look for a tombstone (was the sid retired moments ago?), then the new session.
          expect(calls.map((c) => `${c.method} ${c.key}`)).toEqual([
            `get ${PREFIX + sid}`,
            `get ${PREFIX}retired:${sid}`,
            `set ${PREFIX + fresh}`,
          ]);
          expectPrototypesUntouched(guard);
        }),
        fcOptions,
      );
      expect(ran.storeValues).toBeGreaterThanOrEqual(RUNS);
    },
  );

  // Regression: built-in and class prototypes (Array.prototype, Date.prototype, ...) used to pass as
  // plain objects, so a store answering one made `ctx.session.visits = 1` write onto that prototype.
  // They are refused now: only ordinary objects are sessions.
  class StoreBacking {
    note = 'an instance';
  }
  const BUILT_INS: [string, object][] = [
    ['Array.prototype', Array.prototype],
    ['String.prototype', String.prototype],
    ['Date.prototype', Date.prototype],
    ['Map.prototype', Map.prototype],
    ['Promise.prototype', Promise.prototype],
    ['Error.prototype', Error.prototype],
    ['a class prototype', StoreBacking.prototype],
    ['Math', Math],
  ];
  it.each(BUILT_INS)('a store answering %s: a fresh session, the object untouched', async (_name, target) => {
    const store = new ScriptedStore();
    const server = await start({ store, cookie: { signed: false } });
    const guard = prototypeGuard();
    store.answer = () => target;
    try {
      const reply = await rawGet(server.url, '/', 'koa.sid=abc');
      expect(Object.hasOwn(target, 'visits'), 'the app wrote onto the built-in').toBe(false);
      expectFresh(reply, ['abc'], server);
      expectPrototypesUntouched(guard);
    } finally {
      delete (target as Sess).visits;
    }
  });

  // The same bug reached by a client: an object-backed store written as a class that indexes
  // itself (`return this[key]`), with signed: false and prefix '', answers its class prototype
  // for `koa.sid=__proto__`, and the app's next write to the session lands on that prototype.
  it("koa.sid=__proto__ against a store that indexes itself: a fresh session, the store's prototype untouched", async () => {
    class SelfStore {
      [key: string]: unknown;
      get(key: string) {
        return this[key];
      }
      set(key: string, sess: unknown) {
        this[key] = sess;
      }
      destroy(key: string) {
        delete this[key];
      }
    }
    const store = new SelfStore();
    const server = await start({ store: store as never, prefix: '', cookie: { signed: false } });
    try {
      const reply = await rawGet(server.url, '/', 'koa.sid=__proto__');
      expect(Object.hasOwn(SelfStore.prototype, 'visits'), "the app wrote onto the store's prototype").toBe(false);
      expectFresh(reply, ['__proto__'], server);
    } finally {
      delete (SelfStore.prototype as unknown as Sess).visits;
    }
  });

  it(
    `a store that JSON.parses corrupt or non-session JSON: a fresh session (${RUNS} runs)`,
    { timeout: 60_000 },
    async () => {
      const store = jsonStore();
      // The store's SyntaxError goes to errorHandler as a get error; this app treats it as "no session".
      const getErrors: string[] = [];
      const server = await start({
        store,
        cookie: { signed: false },
        errorHandler: (err, type) => void getErrors.push(`${type}: ${err.name}`),
      });
      const guard = prototypeGuard();
      const valid = JSON.stringify({ user: 'ann', cookie: { path: '/', maxAge: 1000, httpOnly: true } });
      const raw = fc.oneof(
        fc.string(),
        fc.string({ unit: 'binary' }),
        fc.json().filter((j) => !isSession(JSON.parse(j))),
        fc.nat({ max: valid.length - 1 }).map((n) => valid.slice(0, n)),
        fc.constantFrom(
          '{"__proto__":{"polluted":"yes"},"user":"evil"}',
          '{"constructor":{"prototype":{"polluted":"yes"}},"__proto__":{"user":"evil"}}',
          '{"cookie":{"__proto__":{"polluted":"yes"}},"user":"evil"}',
          '{"__proto__":null,"user":"evil"}',
          '{"cookie":"x","user":"evil"}',
          '{"cookie":[],"user":"evil"}',
          '[{"user":"evil"}]',
          '"{\\"user\\":\\"evil\\"}"',
          '123',
          'null',
          'true',
          '{"user":"evil"',
          '{"user":"evil",}',
          '',
        ),
      );

      ran.storeJson = 0;
      await fc.assert(
        fc.asyncProperty(raw, sidLike, async (json, sid) => {
          ran.storeJson!++;
          store.raw.set(PREFIX + sid, json);
          const before = store.written.length;
          const reply = await rawGet(server.url, '/', `koa.sid=${sid}`);
          const fresh = expectFresh(reply, [sid], server);
          expect(store.written.slice(before)).toEqual([PREFIX + fresh]);
          expect(store.raw.get(PREFIX + sid)).toBe(json);
          expectPrototypesUntouched(guard);
        }),
        fcOptions,
      );
      expect(ran.storeJson).toBeGreaterThanOrEqual(RUNS);
      // Only reads failed (the corrupt JSON); no write ever did.
      expect(getErrors.length).toBeGreaterThan(0);
      expect(getErrors.filter((e) => !e.startsWith('get: '))).toEqual([]);
    },
  );

  it('a store that throws on corrupt JSON, with the default errorHandler: a deliberate 500 naming the get error', async () => {
    const store = jsonStore();
    const server = await start({ store, cookie: { signed: false } });
    store.raw.set(`${PREFIX}abc`, '{"user":');
    const reply = await rawGet(server.url, '/', 'koa.sid=abc');
    expect(reply.status).toBe(500);
    expect(server.errors.map((e) => e.name)).toEqual(['koa-generic-session get error']);
    expect(store.written).toEqual([]);
  });

  it(
    `stored sessions carrying own __proto__ / constructor / prototype keys deeper down: loaded as data, saved, nothing polluted (${RUNS} runs)`,
    { timeout: 60_000 },
    async () => {
      const store = new ScriptedStore();
      const server = await start({ store, cookie: { signed: false } });
      const guard = prototypeGuard();
      const key = fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'valueOf',
        'user',
      );
      const json = fc.jsonValue({ maxDepth: 2 });
      // A plain object (no own __proto__ at the top: that is no session) with hostile keys below.
      const nested = fc.dictionary(key, fc.oneof(json, fc.dictionary(key, json, { maxKeys: 3 })), { maxKeys: 4 });
      const session = fc
        .tuple(
          fc.dictionary(fc.constantFrom('constructor', 'prototype', 'toString', 'valueOf', 'data'), nested, {
            maxKeys: 3,
          }),
          fc.boolean(),
        )
        .map(([top, viaJson]) => {
          const value = { ...top, user: 'stored' };
          // Through JSON, own `__proto__` keys appear as JSON.parse makes them.
          return viaJson ? JSON.parse(JSON.stringify(value).replace(/"toString":/g, '"__proto__":')) : value;
        })
        .filter((v) => isSession(v));

      ran.hostileKeys = 0;
      await fc.assert(
        fc.asyncProperty(session, sidLike, async (value, sid) => {
          ran.hostileKeys!++;
          store.answer = (k) => (k === PREFIX + sid ? structuredClone(value) : undefined);
          const before = store.calls.length;
          const reply = await rawGet(server.url, '/', `koa.sid=${sid}`);
          expect(reply.status).toBe(200);
          expect(reply.body.protoOk).toBe(true);
          expect(reply.body.sid).toBe(sid); // a session the store knows is the client's own
          expect(reply.body.keys).toContain('user');
          const writes = store.calls.slice(before).filter((c) => c.method === 'set');
          expect(writes.map((c) => c.key)).toEqual([PREFIX + sid]);
          expect(store.inner.get(PREFIX + sid)).toMatchObject({ user: 'stored', visits: 1 });
          expect(server.errors).toEqual([]);
          expectPrototypesUntouched(guard);
        }),
        fcOptions,
      );
      expect(ran.hostileKeys).toBeGreaterThanOrEqual(RUNS);
    },
  );

  it(
    `stored sessions whose cookie options are garbage: still a 200, never a crash after the store was written (${RUNS} runs)`,
    { timeout: 60_000 },
    async () => {
      // Regression: a stored session's own cookie options (untrusted store data) such as
      // `sameSite: 'bogus'` or `expires: {}` used to make the cookie write throw after the store was
      // written: a 500 on every saving request. Only valid options of a session are used now.
      const store = new ScriptedStore();
      const server = await start({ store, cookie: { signed: false } });
      const guard = prototypeGuard();
      const optionName = fc.constantFrom(
        'maxAge',
        'expires',
        'sameSite',
        'priority',
        'secure',
        'httpOnly',
        'partitioned',
        'overwrite',
        'domain',
        'path',
      );
      // JSON values only: what any JSON-backed store (Redis, a database) can hand back.
      const optionValue = fc.oneof(
        fc.jsonValue({ maxDepth: 1 }),
        fc.constantFrom('bogus', 'yes', 5, '2020-01-01', -1, 1e308),
      );
      const cookie = fc.dictionary(optionName, optionValue, { minKeys: 1, maxKeys: 4 });

      ran.cookieOptions = 0;
      await fc.assert(
        fc.asyncProperty(cookie, sidLike, async (options, sid) => {
          ran.cookieOptions!++;
          store.answer = (k) => (k === PREFIX + sid ? { user: 'stored', cookie: { ...options } } : undefined);
          server.errors.length = 0;
          const reply = await rawGet(server.url, '/', `koa.sid=${sid}`);
          expect(server.errors.map((e) => e.message)).toEqual([]);
          expect(reply.status).toBe(200);
          expectPrototypesUntouched(guard);
        }),
        fcOptions,
      );
    },
  );
});
