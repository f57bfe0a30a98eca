/**
 * The hand-written cookie pieces against the libraries they replace for speed: the signature
 * (cookie-signature.ts) against Keygrip, the `Set-Cookie` lines (set-cookie.ts) against Koa's
 * cookies module, and the sid reader (sid-carrier.ts) against `Cookies#get`. Both libraries are
 * pinned dev dependencies; for any generated input the two must answer the same.
 *
 * Where the middleware differs on purpose, the input is kept out of the comparison and the reason
 * is given next to it (a `secure: true` cookie over plain HTTP, the value of an expired `.sig`).
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Cookies from 'cookies';
import fc from 'fast-check';
import Keygrip from 'keygrip';
import type { Context } from 'koa';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sign, signatureIndex } from '../../src/middleware/http/cookie-signature.js';
import { attributes, configuredAttributes, writeCookies } from '../../src/middleware/http/set-cookie.js';
import { cookieReader } from '../../src/middleware/http/cookie-reader.js';
import type { SessionCookie } from '../../src/stores/types.js';

/**
 * Generated inputs per property; a property stops after 20 s (fast-check's clock is its own, not
 * the faked Date) and that counts as a failure.
 */
const RUNS = { numRuns: 300, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true };

// ---------------------------------------------------------------------------------------------
// Inputs

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const anyString = fc.oneof(fc.string(), fc.string({ unit: codeUnit }));

/** What `app.keys` may hold: strings (any text) and Buffers (any bytes), mixed. */
type Key = string | Buffer;
const key: fc.Arbitrary<Key> = fc.oneof(
  anyString,
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
);
const keyList = fc.array(key, { minLength: 1, maxLength: 5 });

/** Keygrip's own types say strings; it takes whatever createHmac takes, Buffers included. */
const keygrip = (keys: readonly Key[]) => new Keygrip(keys as string[]);

/** The characters Koa's cookies module accepts in a cookie name (field-content, without `;` and `=`). */
const nameChar = fc
  .oneof(
    fc.constantFrom(
      '\t',
      ' ',
      ':',
      '.',
      '$',
      '^',
      '*',
      '+',
      '?',
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      '|',
      '\\',
      '-',
      ',',
      '#',
      '"',
    ),
    fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  )
  .filter((c) => c !== ';' && c !== '=');
const cookieName = fc.oneof(
  fc.constantFrom(
    'koa.sid',
    'koa:sess',
    'koss:test_sid',
    'a.b$',
    'sid(1)',
    '[x]',
    'a|b',
    '^c',
    'd\\e',
    '*',
    '?q',
    '{n}',
    'a+b',
    ' sp ',
  ),
  fc.string({ unit: nameChar, minLength: 1, maxLength: 12 }),
);

/** RFC 6265 cookie-octets: the values the middleware writes (sids, base64url signatures). */
const cookieValue = fc.string({
  unit: fc
    .integer({ min: 0x21, max: 0x7e })
    .map((c) => String.fromCharCode(c))
    .filter((c) => !'",;\\'.includes(c)),
  minLength: 1,
  maxLength: 40,
});

const label = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?$/);
const domain = fc
  .tuple(fc.boolean(), fc.array(label, { minLength: 1, maxLength: 3 }))
  .map(([dot, labels]) => `${dot ? '.' : ''}${labels.join('.')}`);

/**
 * Cookie options as the middleware hands them to the writer. `path` is always there (options.ts
 * resolves it, and the sid carrier passes it even when unset): Koa's cookies writes `path=/` for an
 * absent key, which the writer is never asked to guess.
 */
const cookieOptions: fc.Arbitrary<SessionCookie> = fc.record(
  {
    path: fc.oneof(fc.constantFrom('/', '/app', ''), fc.stringMatching(/^\/[ -:=-~]{0,12}$/)),
    maxAge: fc.oneof(
      fc.constant(null),
      fc.constant(0),
      fc.integer({ min: 1, max: 1e12 }),
      fc.double({ min: 0, max: 1e12, noNaN: true }),
    ),
    expires: fc.date({ min: new Date(-8.64e14), max: new Date(8.64e14) }),
    domain,
    priority: fc.constantFrom('low', 'medium', 'high', 'Low', 'MEDIUM', 'High'),
    sameSite: fc.constantFrom(true, false, 'strict', 'lax', 'none', 'Strict', 'LAX', 'None'),
    secure: fc.boolean(),
    httpOnly: fc.boolean(),
    partitioned: fc.boolean(),
  },
  { requiredKeys: ['path'] },
) as fc.Arbitrary<SessionCookie>;

/** Any moment from 1970 to 2096, in ms. */
const moment = fc.integer({ min: 0, max: 4e12 });

// ---------------------------------------------------------------------------------------------
// Koa's cookies over a request/response pair of node:http (no server: nothing is sent)

function exchange(cookieHeader?: string): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  if (cookieHeader !== undefined) req.headers.cookie = cookieHeader;
  return { req, res: new ServerResponse(req) };
}

/**
 * Set-Cookie lines already on the response, as a copy: both writers add to the array they find
 * there, which must not change the generated input (fast-check shrinks from it).
 */
function setEarlier(res: ServerResponse, earlier: string | string[] | undefined): void {
  if (earlier !== undefined) res.setHeader('Set-Cookie', Array.isArray(earlier) ? [...earlier] : earlier);
}

/**
 * Koa makes its Cookies with `secure: ctx.secure`, and Koa's cookies refuses a `secure: true`
 * cookie on a request that is not: the middleware writes it (a TLS-terminating proxy in front of
 * an app without `app.proxy`), so that case is no comparison; the request is taken as secure.
 */
const requestSecureFor = (options: SessionCookie, requestSecure: boolean) => options.secure === true || requestSecure;

function viaCookies(
  name: string,
  value: string,
  options: SessionCookie & { signed: boolean; overwrite: boolean },
  requestSecure: boolean,
  keys: readonly Key[],
  earlier?: string | string[],
): unknown {
  const { req, res } = exchange();
  setEarlier(res, earlier);
  new Cookies(req, res, { keys: keygrip(keys), secure: requestSecure }).set(name, value, options as Cookies.SetOption);
  return res.getHeader('Set-Cookie');
}

/** Cookies reads `Date.now()` itself: the clock is fixed at the moment under test. */
function useClock() {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

// ---------------------------------------------------------------------------------------------

describe('the cookie signature is the one Keygrip makes', () => {
  it('signs as Keygrip does with the newest key, for string and Buffer keys', () => {
    fc.assert(
      fc.property(keyList, anyString, (keys, data) => {
        const expected = keygrip(keys).sign(data);
        expect(sign(keys, data)).toBe(expected);
        // An app.keys that is itself a Keygrip is used as it is.
        expect(sign(keygrip(keys), data)).toBe(expected);
      }),
      RUNS,
    );
  });

  it('finds the same key index as Keygrip for a signature by each key, and for forged ones', () => {
    const forgery = fc.oneof(
      anyString,
      fc.string({
        unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
        minLength: 27,
        maxLength: 27,
      }),
    );
    fc.assert(
      fc.property(keyList, anyString, forgery, fc.nat(), (keys, data, forged, at) => {
        const reference = keygrip(keys);
        const claims = keys.map((k) => keygrip([k]).sign(data));
        // A genuine signature off by one character, and with base64's padding put back.
        const genuine = claims[0]!;
        const i = at % genuine.length;
        claims.push(
          genuine.slice(0, i) + (genuine[i] === 'A' ? 'B' : 'A') + genuine.slice(i + 1),
          `${genuine}=`,
          forged,
          '',
        );
        for (const claim of claims) {
          const expected = reference.index(data, claim);
          expect(signatureIndex(keys, data, claim)).toBe(expected);
          // Asked again: the newest key's signatures are now remembered, and the answer stays.
          expect(signatureIndex(keys, data, claim)).toBe(expected);
        }
      }),
      RUNS,
    );
  });

  it('follows key rotation: every cookie issued so far is verified as Keygrip would after each change of app.keys', () => {
    type Step = { rotate: Key; dropOldest: boolean } | { replaceNewest: Key } | { issue: string } | { assign: Key[] };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ rotate: key, dropOldest: fc.boolean() }),
      fc.record({ replaceNewest: key }),
      fc.record({ issue: anyString }),
      fc.record({ assign: keyList }),
    );
    fc.assert(
      fc.property(keyList, fc.array(step, { maxLength: 12 }), (initial, steps) => {
        // One app.keys array changed in place, as an app rotating its keys does, or replaced whole.
        let keys = [...initial];
        const issued: { data: string; sig: string }[] = [];
        const checkAll = () => {
          const reference = keygrip(keys);
          for (const { data, sig } of issued) {
            expect(signatureIndex(keys, data, sig)).toBe(reference.index(data, sig));
          }
        };
        for (const s of steps) {
          if ('issue' in s) {
            const sig = sign(keys, s.issue);
            expect(sig).toBe(keygrip(keys).sign(s.issue));
            issued.push({ data: s.issue, sig });
          } else if ('rotate' in s) {
            keys.unshift(s.rotate);
            if (s.dropOldest && keys.length > 1) keys.pop();
          } else if ('replaceNewest' in s) {
            keys[0] = s.replaceNewest;
          } else {
            keys = [...s.assign];
          }
          checkAll();
        }
      }),
      RUNS,
    );
  });
});

describe("Set-Cookie lines are the ones Koa's cookies writes", () => {
  useClock();

  it('attributes(): the same line for the same options, at any moment, over HTTP and HTTPS', () => {
    fc.assert(
      fc.property(cookieName, cookieValue, cookieOptions, fc.boolean(), moment, (name, value, options, secure, now) => {
        vi.setSystemTime(now);
        const requestSecure = requestSecureFor(options, secure);
        const expected = viaCookies(name, value, { ...options, signed: false, overwrite: false }, requestSecure, ['k']);
        expect([`${name}=${value}${attributes(options, requestSecure, false, now)}`]).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('configuredAttributes(): the line stays right as the clock moves, forwards and back, across seconds', () => {
    const clockSteps = fc.array(fc.tuple(fc.integer({ min: -2500, max: 2500 }), fc.boolean()), {
      minLength: 1,
      maxLength: 15,
    });
    fc.assert(
      fc.property(cookieName, cookieValue, cookieOptions, moment, clockSteps, (name, value, options, start, steps) => {
        const configured = configuredAttributes(options);
        let now = start;
        for (const [move, secure] of steps) {
          now = Math.max(0, now + move);
          vi.setSystemTime(now);
          const requestSecure = requestSecureFor(options, secure);
          const expected = viaCookies(name, value, { ...options, signed: false, overwrite: false }, requestSecure, [
            'k',
          ]);
          expect([`${name}=${value}${configured(requestSecure)}`]).toEqual(expected);
        }
      }),
      RUNS,
    );
  });

  /** Set-Cookie lines already on the response: some of the cookie's own name or its `.sig`, some lookalikes. */
  const earlierLines = (name: string) =>
    fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(`${name}=old; path=/`, `other=1`),
      fc.array(
        fc.oneof(
          fc.constantFrom(
            `${name}=old; path=/`,
            `${name}.sig=oldsig; path=/`,
            `${name}x=1`,
            `x${name}=2`,
            `${name}.sigx=3`,
            `other=4; httponly`,
          ),
          cookieValue.map((v) => `${v}=${v}`),
        ),
        { maxLength: 6 },
      ),
    );

  it('writeCookies(): the same header for a saved session, signed or not, with or without overwrite, after earlier cookies', () => {
    const input = cookieName.chain((name) =>
      fc.record({
        name: fc.constant(name),
        earlier: earlierLines(name),
        value: cookieValue,
        options: cookieOptions,
        signed: fc.boolean(),
        overwrite: fc.boolean(),
        keys: keyList,
        secure: fc.boolean(),
        now: moment,
      }),
    );
    fc.assert(
      fc.property(input, ({ name, earlier, value, options, signed, overwrite, keys, secure, now }) => {
        vi.setSystemTime(now);
        const requestSecure = requestSecureFor(options, secure);
        const expected = viaCookies(name, value, { ...options, signed, overwrite }, requestSecure, keys, earlier);

        const { res } = exchange();
        setEarlier(res, earlier);
        const pairs: [string, string][] = [[name, value]];
        if (signed) pairs.push([`${name}.sig`, sign(keys, `${name}=${value}`)]);
        writeCookies(res, pairs, attributes(options, requestSecure, false, now), overwrite);
        expect(res.getHeader('Set-Cookie')).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('writeCookies(): the same header for a reset (empty value, expired, overwriting), but for the value of an expired .sig', () => {
    const input = cookieName.chain((name) =>
      fc.record({
        name: fc.constant(name),
        earlier: earlierLines(name),
        options: cookieOptions,
        signed: fc.boolean(),
        keys: keyList,
        secure: fc.boolean(),
        now: moment,
      }),
    );
    fc.assert(
      fc.property(input, ({ name, earlier, options, signed, keys, secure, now }) => {
        vi.setSystemTime(now);
        const requestSecure = requestSecureFor(options, secure);
        const written = viaCookies(
          name,
          '',
          { ...options, signed, overwrite: true },
          requestSecure,
          keys,
          earlier,
        ) as string[];
        // Koa's cookies signs the empty value (`<name>.sig=<HMAC of "<name>=">`); the middleware sends
        // an empty `.sig`. Both lines expire in 1970, so the browser drops either at once and never
        // sends the value back: only that value is left out of the comparison.
        const sigLine = `${name}.sig=`;
        const last = written[written.length - 1]!;
        const expected = signed ? [...written.slice(0, -1), sigLine + last.slice(last.indexOf(';'))] : written;
        if (signed) expect(last.startsWith(`${sigLine}${keygrip(keys).sign(`${name}=`)};`)).toBe(true);

        const { res } = exchange();
        setEarlier(res, earlier);
        const pairs: [string, string][] = signed
          ? [
              [name, ''],
              [`${name}.sig`, ''],
            ]
          : [[name, '']];
        writeCookies(res, pairs, attributes(options, requestSecure, true, now), true);
        expect(res.getHeader('Set-Cookie')).toEqual(expected);
      }),
      RUNS,
    );
  });
});

describe('the sid reader returns what Cookies#get returns', () => {
  /** Variants of a name that a regular expression left unescaped would also match. */
  const lookalikes = (name: string) => [
    name,
    name.replace(/[^A-Za-z0-9]/g, 'x'),
    name.replace(/[^A-Za-z0-9]/g, ''),
    `${name}${name}`,
    `x${name}`,
    `${name}x`,
    ` ${name}`,
    `${name} `,
    `"${name}"`,
    name.toUpperCase(),
  ];
  const headerChar = fc.oneof(
    fc.constantFrom(';', '=', '"', ' ', '\t', ',', '\\'),
    fc.string({ maxLength: 1, minLength: 1 }),
    nameChar,
  );
  const freeText = fc.string({ unit: headerChar, maxLength: 30 });

  const input = cookieName.chain((name) => {
    const pair = fc
      .tuple(
        fc.constantFrom(...lookalikes(name)),
        fc.constantFrom('=', '= ', ' =', '=='),
        fc.oneof(
          freeText,
          cookieValue,
          cookieValue.map((v) => `"${v}"`),
          fc.constantFrom('"', '""', '"x', 'x"', ''),
        ),
      )
      .map(([n, eq, v]) => `${n}${eq}${v}`);
    const separator = fc.constantFrom(';', '; ', ';  ', ' ;', ';;', ', ');
    const header = fc
      .array(fc.tuple(fc.oneof(pair, pair, freeText), separator), { maxLength: 6 })
      .map((parts) => parts.map(([p, s]) => p + s).join(''))
      .chain((built) => fc.constantFrom(built, built.replace(/[; ]+$/, '')));
    return fc.record({
      name: fc.constant(name),
      header: fc.oneof({ weight: 4, arbitrary: header }, { weight: 1, arbitrary: freeText }),
    });
  });

  it('for any Cookie header: quotes, spaces, ";" and "=" anywhere, duplicate names, names with regular-expression characters', () => {
    fc.assert(
      fc.property(input, ({ name, header }) => {
        const { req, res } = exchange(header);
        const expected = new Cookies(req, res).get(name);
        const ctx = { req } as unknown as Context;
        expect(cookieReader(name)(ctx)).toBe(expected);
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('without a Cookie header, or an empty one, both find nothing', () => {
    for (const header of [undefined, '']) {
      const { req, res } = exchange(header);
      expect(new Cookies(req, res).get('koa:sess')).toBeUndefined();
      expect(cookieReader('koa:sess')({ req } as unknown as Context)).toBeUndefined();
    }
  });

  it('reads names with ":", "." and "$" as Koa does, the first of duplicates: koa:sess, koss:test_sid, a.b$', () => {
    const header = 'koaxsess=wrong; koa:sess="s1"; koss:test_sid=s2; koss:test_sid=later; abb$=wrong; a.b$=s3';
    const { req, res } = exchange(header);
    const cookies = new Cookies(req, res);
    const ctx = { req } as unknown as Context;
    for (const [name, value] of [
      ['koa:sess', 's1'],
      ['koss:test_sid', 's2'],
      ['a.b$', 's3'],
    ] as const) {
      expect(cookies.get(name)).toBe(value);
      expect(cookieReader(name)(ctx)).toBe(value);
    }
  });
});

describe('keys that are not strings, as Keygrip takes them', () => {
  it('KeyObjects sign and verify as with Keygrip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.string(), (bytes, data) => {
        const keys = [createSecretKey(Buffer.from(bytes))];
        const reference = new Keygrip(keys as unknown as string[]);
        expect(sign(keys, data)).toBe(reference.sign(data));
        expect(signatureIndex(keys, data, reference.sign(data))).toBe(0);
      }),
    );
  });

  it('a signature made with the text "[object KeyObject]" is refused when app.keys holds a secret KeyObject', () => {
    const keys = [createSecretKey(randomBytes(32))];
    const data = 'koa.sid=chosen-by-the-attacker';
    const forged = createHmac('sha1', '[object KeyObject]').update(data).digest('base64url');
    expect(new Keygrip(keys as unknown as string[]).index(data, forged)).toBe(-1);
    expect(signatureIndex(keys, data, forged)).toBe(-1);
  });

  it('Uint8Arrays and DataViews sign as their bytes, as with Keygrip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.string(), (bytes, data) => {
        const expected = new Keygrip([Buffer.from(bytes)] as unknown as string[]).sign(data);
        expect(sign([new Uint8Array(bytes)], data)).toBe(expected);
        expect(sign([new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)], data)).toBe(expected);
      }),
    );
  });

  it('a key of another type is refused with a clear error, not turned into text', () => {
    expect(() => sign([42], 'koa.sid=x')).toThrow(/app\.keys must hold strings, Buffers or KeyObjects/);
  });
});
