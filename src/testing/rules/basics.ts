/** The plain contract every store keeps: get, set and destroy (koa-generic-session's three methods). */
import { described } from '../failure.js';
import { sessionOf, LONG_TTL, type RuleGroup } from './probe.js';

export const basicRules: RuleGroup = {
  rules: [
    {
      rule: 'get after set returns what was set',
      body: async (s) => {
        const key = s.key();
        const value = sessionOf({ user: 'alice', n: 1 });
        await s.set(key, value, LONG_TTL);
        const got = await s.get(key);
        s.check(Boolean(got), key, 'get() gave nothing right after set()', value, got);
        s.same(key, got, value, 'get() gave another session than set() was given');
      },
    },
    {
      rule: 'a missing key gives a falsy value',
      body: async (s) => {
        await s.set(s.key(), sessionOf({ n: 1 }), LONG_TTL);
        for (const key of [s.key(), s.key()]) s.nothing(key, await s.get(key), 'get() of a key never set gave a value');
      },
    },
    {
      rule: 'set overwrites an existing entry',
      body: async (s) => {
        const key = s.key();
        for (let n = 1; n <= 3; n++) {
          await s.set(key, sessionOf({ n }), LONG_TTL);
          const got = await s.get(key);
          s.check(got?.n === n, key, `after set() number ${n}, get() gave another session`, sessionOf({ n }), got);
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
        s.check(Boolean(got), key, 'get() gave nothing right after set()', value, got);
        const back = got.cookie?.expires;
        s.check(
          (back instanceof Date && back.getTime() === expires.getTime()) || back === expires.toISOString(),
          key,
          `cookie.expires came back as a ${typeof back}, not as the Date or its ISO string`,
          described(`a Date or the ISO string ${expires.toISOString()}`),
          back,
        );
        s.same(key, got, value, 'the session came back changed');
      },
    },
    {
      rule: 'destroy removes the entry',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        await s.destroy(key);
        s.nothing(key, await s.get(key), 'get() after destroy() gave a session');
        await s.destroy(s.key());
      },
    },
    {
      rule: 'a session read before destroy is not returned after it',
      body: async (s) => {
        const key = s.key();
        await s.set(key, sessionOf({ n: 1 }), LONG_TTL);
        const before = await s.get(key);
        s.check(Boolean(before), key, 'get() after set() gave nothing', sessionOf({ n: 1 }), before);
        await s.destroy(key);
        s.nothing(key, await s.get(key), 'get() after destroy() gave the session read before it');
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
        s.same(
          key,
          await s.get(key),
          sessionOf({ n: 1, list: [1], nested: { x: 1 } }),
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
        s.check(second !== first, key, 'get() returned the same object twice', described('a new object'), second);
        s.same(
          key,
          second,
          sessionOf({ n: 1, nested: { x: 1 } }),
          'changing the object get() returned changed what the store returns',
        );
      },
    },
    {
      rule: 'concurrent calls on different keys do not interfere',
      body: async (s) => {
        const keys = Array.from({ length: 32 }, () => s.key());
        await Promise.all(keys.map((key, i) => s.set(key, sessionOf({ i }), LONG_TTL)));
        const first = await Promise.all(keys.map((key) => s.get(key)));
        first.forEach((got, i) =>
          s.check(
            got?.i === i,
            keys[i],
            'after 32 concurrent set() calls, get() gave another session',
            sessionOf({ i }),
            got,
          ),
        );
        await Promise.all(
          keys.map((key, i) => (i % 2 === 0 ? s.destroy(key) : s.set(key, sessionOf({ i: i + 100 }), LONG_TTL))),
        );
        const second = await Promise.all(keys.map((key) => s.get(key)));
        second.forEach((got, i) => {
          if (i % 2 === 0)
            s.nothing(keys[i]!, got, 'after concurrent destroy() and set() calls, a destroyed key gave a session');
          else
            s.check(
              got?.i === i + 100,
              keys[i],
              'after concurrent destroy() and set() calls, a rewritten key gave another session',
              sessionOf({ i: i + 100 }),
              got,
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
        s.check(
          got?.big === 10n,
          key,
          'set() of a value with a BigInt resolved, but get() did not give it back: the failure was swallowed',
          described('set() fails, or get() gives back big: 10n'),
          got,
        );
      },
    },
  ],
};
