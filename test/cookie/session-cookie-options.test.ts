/**
 * A session's own cookie options (`session.cookie.maxAge` for "remember me", `sameSite`, …) decide
 * its `Set-Cookie` attributes. The carrier (src/middleware/sid-carrier.ts) takes a shortcut when
 * they are the configured ones (a copy, the usual case): the attributes made for the configuration.
 * For any configuration and any session whose options differ from it in any of the seven a session
 * may change, the header is the one made from the configuration with the session's options over
 * it, as Koa's cookies writes it (set-cookie.ts's `attributes`, pinned to it by
 * differential.test.ts).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import fc from 'fast-check';
import type { Context } from 'koa';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cookieCarrier } from '../../src/middleware/sid-carrier.js';
import { attributes } from '../../src/middleware/http/set-cookie.js';
import { sign } from '../../src/middleware/http/cookie-signature.js';
import type { SessionCookie } from '../../src/stores/types.js';
import { KEYS } from '../helpers/koa.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A valid value of each option a session may change for itself. */
const OWN: Record<string, fc.Arbitrary<unknown>> = {
  maxAge: fc.oneof(fc.integer({ min: 0, max: 10 ** 10 }), fc.constantFrom('session', null)),
  expires: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
  httpOnly: fc.boolean(),
  secure: fc.boolean(),
  sameSite: fc.constantFrom('strict', 'lax', 'none', true, false),
  priority: fc.constantFrom('low', 'medium', 'high'),
  partitioned: fc.boolean(),
};
const NAMES = Object.keys(OWN);

const configured = fc.record(
  {
    maxAge: fc.oneof(fc.integer({ min: 1, max: 10 ** 10 }), fc.constantFrom('session', null)),
    httpOnly: fc.boolean(),
    sameSite: fc.constantFrom('strict', 'lax', true, false),
    priority: fc.constantFrom('low', 'medium', 'high'),
    path: fc.constantFrom('/', '/app'),
    domain: fc.constantFrom(undefined, 'example.com'),
  },
  { requiredKeys: ['path'] },
);

/** The session's own options: the configured ones, with each option kept or changed at random. */
const own = fc.record(Object.fromEntries(NAMES.map((n) => [n, fc.option(OWN[n]!, { nil: undefined })])));

function send(cookie: SessionCookie, session: { cookie: SessionCookie }): unknown {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);
  const ctx = { res, headerSent: false, secure: false, app: { keys: KEYS } } as unknown as Context;
  cookieCarrier('koa.sid', { ...cookie, signed: true, overwrite: true }).send(ctx, 'the-sid', session, {
    kind: 'absent',
  });
  return res.getHeader('Set-Cookie');
}

describe("a session's own cookie options", () => {
  it('any option changed gives the attributes of the configuration with the session options over it', () => {
    fc.assert(
      fc.property(configured, own, fc.nat(4e12), (config, changes, now) => {
        vi.setSystemTime(now);
        const cookie = config as SessionCookie;
        // The session starts as a copy of the configuration, as a new session does.
        const sessionCookie: SessionCookie = { ...cookie };
        for (const [name, value] of Object.entries(changes)) if (value !== undefined) sessionCookie[name] = value;
        const merged = { ...cookie, ...sessionCookie, path: cookie.path, domain: cookie.domain, signed: true };
        const attrs = attributes(merged, false, false, now);
        expect(send(cookie, { cookie: sessionCookie })).toEqual([
          `koa.sid=the-sid${attrs}`,
          `koa.sid.sig=${sign(KEYS, 'koa.sid=the-sid')}${attrs}`,
        ]);
      }),
      { numRuns: 500 },
    );
  });

  it('one option changed at a time, each alone, is honoured', () => {
    // A browser-session cookie: no Max-Age, so that a session's own `expires` shows.
    const cookie: SessionCookie = { path: '/', httpOnly: true, maxAge: 'session', sameSite: 'lax', priority: 'low' };
    const changed: Record<string, unknown> = {
      maxAge: 5000,
      expires: new Date(3e12),
      httpOnly: false,
      secure: true,
      sameSite: 'strict',
      priority: 'high',
      partitioned: true,
    };
    vi.setSystemTime(1e12);
    const same = send(cookie, { cookie: { ...cookie } }) as string[];
    for (const name of NAMES) {
      const header = send(cookie, { cookie: { ...cookie, [name]: changed[name] } }) as string[];
      expect(header, name).not.toEqual(same);
      expect(header[0]).toBe(`koa.sid=the-sid${attributes({ ...cookie, [name]: changed[name] }, false, false)}`);
    }
  });
});
