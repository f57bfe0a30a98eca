/**
 * Hostile cookies, property-based (fast-check): whatever the client puts in its Cookie header, the
 * response is a 200 with a fresh session, the client's sid is never adopted, nothing crashes, and no
 * built-in prototype changes. Every byte a valid HTTP field value may carry (HTAB, 0x20-0x7E,
 * 0x80-0xFF), unicode sent as its UTF-8 bytes, 4 KB values, sids named after prototype members.
 *
 * Naive: koa-generic-session adopts any unsigned sid the store answers for: with `signed: false`,
 * `prefix: ''` and an object-backed store (its own MemoryStore is one), the sid `__proto__` loads
 * `Object.prototype` as the session and the sid `toString` a function, and the first write to the
 * "session" changes Object.prototype for the whole process.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { closeApps, type TestApp } from '../helpers/apps.js';
import { PREFIX } from '../helpers/store-keys.js';
import { RecordingStore } from '../helpers/recording-store.js';
import { objectStore } from '../helpers/legacy-stores.js';
import { prototypeGuard } from '../helpers/prototype-guard.js';
import {
  cookieValue,
  expectFresh,
  expectPrototypesUntouched,
  fcOptions,
  propertyRuns,
  rawGet,
  RUNS,
  SID,
  sidLike,
  start,
} from './fixtures/hostile-input.js';

afterEach(closeApps);

const ran = propertyRuns();

/** Only the bytes a header field value may carry. */
const fieldBytes = (s: string) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
const utf8AsLatin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

const PROTOTYPE_NAMES = [
  ...new Set([
    ...Object.getOwnPropertyNames(Object.prototype),
    ...Object.getOwnPropertyNames(Function.prototype),
    'prototype',
    '__proto__',
    'constructor',
    'toString',
    'undefined',
    'null',
  ]),
];

const randomBytes = fc.uint8Array({ maxLength: 300 }).map((b) => fieldBytes(Buffer.from(b).toString('latin1')));
const unicode = fc.string({ unit: 'binary', maxLength: 120 }).map((s) => fieldBytes(utf8AsLatin1(s)));
const fourKb = fc
  .tuple(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 8 }), fc.integer({ min: 4000, max: 4300 }))
  .map(([chunk, size]) => fieldBytes(chunk.repeat(Math.ceil(size / chunk.length))).slice(0, size));
const sigLike = fc.stringMatching(/^[A-Za-z0-9_-]{27}$/);
const special = fc.constantFrom(...PROTOTYPE_NAMES, '', '"', '""', '" "', ' ', '=', '==', ';', ',', '\t');

const cookieText = fc.oneof(randomBytes, unicode, fourKb, sidLike, special);

describe('a hostile Cookie header never crashes, never adopts the client sid, never pollutes', () => {
  it(
    `any Cookie header (signed cookies): a fresh session, never the client's sid (${RUNS} runs)`,
    { timeout: 60_000 },
    async () => {
      const store = new RecordingStore();
      const server = await start({ store });
      const login = await rawGet(server.url, '/login', undefined);
      const realSid = login.body.sid as string;
      const realSig = login.setCookies.find((c) => c.name === 'koa.sid.sig')!.value;
      const realSession = store.peek(PREFIX + realSid);
      expect(realSession).toMatchObject({ user: 'ann' });
      const guard = prototypeGuard();

      // Never the exact valid pair: any signature that does not contain the real one.
      const sig = fc
        .option(fc.oneof(cookieText, sigLike), { nil: undefined })
        .filter((s) => s === undefined || !s.includes(realSig));
      const sid = fc.oneof({ arbitrary: cookieText, weight: 4 }, { arbitrary: fc.constant(realSid), weight: 1 });
      const header = fc.oneof(
        fc.tuple(sid, sig).map(([v, s]) => (s === undefined ? `koa.sid=${v}` : `koa.sid=${v}; koa.sid.sig=${s}`)),
        fc.tuple(sid, sig).map(([v, s]) => `koa.sid.sig=${s ?? ''}; other=1; koa.sid=${v}`),
        fc.tuple(sid, sig).map(([v, s]) => `koa.sid=${v}; koa.sid=${realSid}; koa.sid.sig=${s ?? ''}`),
        fc.tuple(cookieText, sid).map(([junk, v]) => `${junk}; koa.sid=${v}`),
        cookieText,
      );

      ran.cookieHeaderSigned = 0;
      await fc.assert(
        fc.asyncProperty(header, async (cookie) => {
          ran.cookieHeaderSigned!++;
          const sent = cookieValue(cookie, 'koa.sid');
          const before = store.calls.length;
          const reply = await rawGet(server.url, '/', cookie);
          const sid = expectFresh(reply, [sent, realSid], server);
          const calls = store.calls.slice(before);
          const writes = calls.filter((c) => c.method !== 'get');
          expect(writes.map((c) => `${c.method} ${c.key}`)).toEqual([`set ${PREFIX + sid}`]);
          expect(store.peek(PREFIX + realSid)).toEqual(realSession);
          expectPrototypesUntouched(guard);
        }),
        fcOptions,
      );
      expect(ran.cookieHeaderSigned).toBeGreaterThanOrEqual(RUNS);
    },
  );

  it('a signature one character off the genuine one, at any position, is refused (the remembered signature is compared in full)', async () => {
    const store = new RecordingStore();
    const server = await start({ store });
    const login = await rawGet(server.url, '/login', undefined);
    const realSid = login.body.sid as string;
    const realSig = login.setCookies.find((c) => c.name === 'koa.sid.sig')!.value;
    // The genuine pair is accepted (and its signature is now remembered)...
    const genuine = await rawGet(server.url, '/', `koa.sid=${realSid}; koa.sid.sig=${realSig}`);
    expect(genuine.body.sid).toBe(realSid);
    expect(genuine.body.fresh).toBe(false);
    // ...and every one-character change of it, first, middle or last, shorter or longer, is not.
    const variants = [...realSig].map((c, i) => realSig.slice(0, i) + (c === 'A' ? 'B' : 'A') + realSig.slice(i + 1));
    variants.push(realSig.slice(0, -1), realSig + 'A');
    for (const forged of variants) {
      const reply = await rawGet(server.url, '/', `koa.sid=${realSid}; koa.sid.sig=${forged}`);
      expectFresh(reply, [realSid], server);
    }
    expect(store.peek(PREFIX + realSid)).toMatchObject({ user: 'ann' });
  });

  /** One request with `koa.sid=<value>` to an unsigned, prefix-less app; checks freshness and writes. */
  async function unsignedRun(
    server: TestApp,
    value: string,
    written: () => string[],
    guard: ReturnType<typeof prototypeGuard>,
  ) {
    const cookie = `koa.sid=${value}`;
    const before = written().length;
    const reply = await rawGet(server.url, '/', cookie);
    const sid = expectFresh(reply, [cookieValue(cookie, 'koa.sid')], server);
    expect(written().slice(before)).toEqual([sid]);
    expectPrototypesUntouched(guard);
  }

  const unsigned = { prefix: '', cookie: { signed: false } };
  /** Names a plain object answers a function for (see the regression note below). */
  const FUNCTION_NAMES = PROTOTYPE_NAMES.filter((n) => typeof ({} as Record<string, unknown>)[n] === 'function');
  const unsignedSid = (names: string[]) =>
    fc.oneof({ arbitrary: fc.constantFrom(...names), weight: 3 }, { arbitrary: cookieText, weight: 2 });

  it(
    `any sid with signed: false and prefix '' (prototype names included), default MemoryStore (${RUNS} runs)`,
    { timeout: 60_000 },
    async () => {
      const store = new RecordingStore();
      const server = await start({ store, ...unsigned });
      const guard = prototypeGuard();
      ran.unsignedSidMemoryStore = 0;
      await fc.assert(
        fc.asyncProperty(unsignedSid(PROTOTYPE_NAMES), async (value) => {
          ran.unsignedSidMemoryStore!++;
          await unsignedRun(server, value, () => store.writtenKeys(), guard);
        }),
        fcOptions,
      );
      expect(ran.unsignedSidMemoryStore).toBeGreaterThanOrEqual(RUNS);
    },
  );

  it(
    `any sid with signed: false and prefix '', a naive object-backed store: '__proto__' is refused (${RUNS} runs)`,
    { timeout: 60_000 },
    async () => {
      const store = objectStore();
      const server = await start({ store, ...unsigned });
      const guard = prototypeGuard();
      const names = PROTOTYPE_NAMES.filter((n) => !FUNCTION_NAMES.includes(n));
      expect(names).toContain('__proto__');
      ran.unsignedSidObjectStore = 0;
      await fc.assert(
        fc.asyncProperty(
          unsignedSid(names).filter((v) => !FUNCTION_NAMES.includes(cookieValue(`koa.sid=${v}`, 'koa.sid') ?? '')),
          async (value) => {
            ran.unsignedSidObjectStore!++;
            await unsignedRun(server, value, () => store.written, guard);
            expect(Object.getPrototypeOf(store.sessions)).toBe(Object.prototype);
            for (const key of Object.keys(store.sessions)) expect(key).toMatch(SID);
          },
        ),
        fcOptions,
      );
      expect(ran.unsignedSidObjectStore).toBeGreaterThanOrEqual(RUNS);
    },
  );

  // Regression: with `signed: false`, `prefix: ''` and an object-backed store, a client could pick
  // keys such as `constructor` or `toString`: get answered a function of Object.prototype, which was
  // run as a thunk and hung the request (503) or threw (500). Keys that are members of
  // Object.prototype are never looked up now: they hold no session.
  it.each(FUNCTION_NAMES)(
    "koa.sid=%s with signed: false, prefix '' and a naive object-backed store: a fresh session",
    async (name) => {
      const store = objectStore();
      // A short store timeout keeps the hanging case bounded.
      const server = await start({ store, ...unsigned, storeTimeout: 300 });
      await unsignedRun(server, name, () => store.written, prototypeGuard());
    },
  );
});
