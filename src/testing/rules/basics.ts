/** The plain contract every store keeps: get, set and destroy (koa-generic-session's three methods). */
import assert from 'node:assert/strict';
import { normalize, sessionOf, LONG_TTL, type RuleGroup } from './probe.js';

export const basicRules: RuleGroup = {
  rules: [
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
  ],
};
