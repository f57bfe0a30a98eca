/**
 * Options are checked when the middleware is created: a bad value throws a TypeError that names
 * the problem, every documented option is accepted at once, and a missing `app.keys` fails the
 * request with a clear message instead of a crash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import session, { MemoryStore } from '../../src/index.js';
import { KOA_VERSIONS } from '../helpers/koa.js';
import { closeApps, counter, startApp } from '../helpers/apps.js';

afterEach(closeApps);

describe.each(KOA_VERSIONS)('accepted options on $name', ({ Koa }) => {
  describe('reconnectTimeout', () => {
    it('is accepted as a number of ms', async () => {
      const t = await startApp(Koa, { reconnectTimeout: 2_000 }, counter);
      expect((await t.client().get('/')).body.count).toBe(1);
    });
  });
});

describe('option validation (at creation)', () => {
  const bad: [string, unknown][] = [
    ['options', 'not an object'],
    ['key', ''],
    ['key', 'has;semicolon'],
    ['key', 'has=equals'],
    ['key', 42],
    ['prefix', 7],
    ['ttl', -1],
    ['ttl', 'soon'],
    ['cookie', 'yes'],
    ['cookie.maxAge', -5],
    ['cookie.maxAge', 'forever'],
    ['cookie.path', 'no-slash'],
    ['cookie.sameSite none without secure', { sameSite: 'none' }],
    ['rolling', 'yes'],
    ['defer', 1],
    ['allowEmpty', 'true'],
    ['genSid', 'abc'],
    ['errorHandler', {}],
    ['valid', true],
    ['beforeSave', 1],
    ['sessionIdStore', { get() {} }],
    ['reconnectTimeout', -1],
    ['reconnectTimeout', '10s'],
    ['store', { get() {}, set() {} }],
    ['store', 'redis'],
  ];

  function optionsFor(name: string, value: unknown): unknown {
    if (name === 'options') return value;
    if (name.startsWith('cookie.sameSite')) return { cookie: value };
    if (name.startsWith('cookie.')) return { cookie: { [name.slice(7)]: value } };
    return { [name]: value };
  }

  it.each(bad)('%s = %j throws a TypeError naming the problem', (name, value) => {
    const create = () => session(optionsFor(name, value) as never);
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/koa-session-machine/);
  });

  it('accepts every documented option at once', () => {
    expect(() =>
      session({
        key: 'k',
        store: new MemoryStore(),
        prefix: '',
        ttl: () => 1000,
        cookie: { maxAge: null, path: '/x', domain: 'example.com', secure: true, sameSite: 'none', httpOnly: false },
        rolling: true,
        defer: false,
        allowEmpty: true,
        genSid: () => 'x',
        errorHandler: () => undefined,
        valid: () => true,
        beforeSave: () => undefined,
        sessionIdStore: { get: () => undefined, set: () => undefined, reset: () => undefined },
        reconnectTimeout: 0,
      }),
    ).not.toThrow();
  });

  it('refuses a generator-function store with a message that says why', () => {
    const store = {
      *get() {},
      set() {},
      destroy() {},
    };
    expect(() => session({ store: store as never })).toThrow(/generator/);
  });

  it('an empty app.keys array fails with the same clear message', async () => {
    const t = await startApp(KOA_VERSIONS[0]!.Koa, {}, counter, { keys: [] });
    const reply = await t.client().get('/');
    expect(reply.status).toBe(500);
    expect(t.errors[0]).toBeInstanceOf(TypeError);
    expect(t.errors[0]!.message).toMatch(/app\.keys/);
  });

  it('a signed cookie without app.keys fails with a clear message, not a crash', async () => {
    const t = await startApp(KOA_VERSIONS[0]!.Koa, {}, counter, { keys: null });
    const reply = await t.client().get('/');
    expect(reply.status).toBe(500);
    expect(t.errors[0]).toBeInstanceOf(TypeError);
    expect(t.errors[0]!.message).toMatch(/app\.keys/);
  });
});
