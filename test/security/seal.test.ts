/**
 * The sealing of stored sessions (src/stores/seal.ts): its hand-written HKDF is pinned to Node's
 * `hkdfSync` for any input, a sealed value opens only with its own sid and key, and any change to
 * it makes it unreadable rather than an error. What seal.ts remembers (the derived keys, the last
 * value sealed or opened under each key) is pinned to a reference without memory: after any
 * sequence of seals and opens, an open answers what decrypting with a freshly derived key answers.
 */
import { createDecipheriv, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seal, sealKey, unseal } from '../../src/stores/seal.js';

/** What opening `sealed` gives without any memory: HKDF with hkdfSync, then AES-256-GCM. */
function reference(sid: string, key: string, sealed: string): string | undefined {
  if (!sealed.startsWith('v1.')) return undefined;
  const body = Buffer.from(sealed.slice(3), 'base64url');
  if (body.length < 28) return undefined;
  const derived = Buffer.from(
    hkdfSync('sha256', Buffer.from(sid), Buffer.from('koa-session-machine/seal/v1'), Buffer.from(key), 32),
  );
  try {
    const decipher = createDecipheriv('aes-256-gcm', derived, body.subarray(0, 12));
    decipher.setAAD(Buffer.from(key));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

describe('seal', () => {
  it('derives the key exactly as hkdfSync(sha256, sid, salt, key, 32) does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (sid, key) => {
        const expected = Buffer.from(
          hkdfSync('sha256', Buffer.from(sid), Buffer.from('koa-session-machine/seal/v1'), Buffer.from(key), 32),
        );
        expect(sealKey(sid, key).equals(expected)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('opens with the same sid and key only', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.json(), (sid, key, json) => {
        const sealed = seal(sid, key, json);
        expect(unseal(sid, key, sealed)).toBe(json);
        expect(unseal(`${sid}x`, key, sealed)).toBeUndefined();
        expect(unseal(sid, `${key}x`, sealed)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it('never opens a changed value, and never throws on garbage', () => {
    const sealed = seal('the-sid', 'koa:sess:key', '{"user":"ann"}');
    fc.assert(
      fc.property(fc.nat({ max: sealed.length - 1 }), fc.constantFrom(...'ABCabc019-_'), (at, ch) => {
        const changed = sealed.slice(0, at) + ch + sealed.slice(at + 1);
        // A character can differ in bits base64url ignores: only a change of the bytes must fail.
        const bytes = (v: string) => Buffer.from(v.slice(3), 'base64url');
        if (changed.slice(0, 3) === 'v1.' && bytes(changed).equals(bytes(sealed))) return;
        expect(unseal('the-sid', 'koa:sess:key', changed)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    for (const garbage of [
      undefined,
      null,
      42,
      {},
      '',
      'v1.',
      'v1.AAAA',
      'v2.' + sealed.slice(3),
      sealed.slice(0, 20),
    ]) {
      expect(unseal('the-sid', 'koa:sess:key', garbage)).toBeUndefined();
    }
  });

  it('opens as a reference without memory does, after any sequence of seals and opens', () => {
    // Few sids and keys, so that the steps meet what earlier steps remembered: the same key under
    // another sid (a re-keyed sid), a value sealed for another key, a changed value, an older one.
    const sid = fc.constantFrom('sid-a', 'sid-b', 'sid-c');
    const key = fc.constantFrom('koa:sess:1', 'koa:sess:2');
    const json = fc.oneof(
      fc.json(),
      fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xdfff }).map(String.fromCharCode) }),
    );
    type Step =
      | { seal: { sid: string; key: string; json: string } }
      | { open: { sid: string; key: string; pick: number; change: number | undefined } };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ sid, key, json }).map((s) => ({ seal: s })),
      fc
        .record({ sid, key, pick: fc.nat(), change: fc.option(fc.nat(), { nil: undefined }) })
        .map((o) => ({ open: o })),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const made: { sid: string; key: string; json: string; sealed: string }[] = [];
        for (const s of steps) {
          if ('seal' in s) {
            const sealed = seal(s.seal.sid, s.seal.key, s.seal.json);
            made.push({ ...s.seal, sealed });
            // Sealed now, opened at once with the same sid and key: what the reference opens.
            expect(unseal(s.seal.sid, s.seal.key, sealed)).toBe(reference(s.seal.sid, s.seal.key, sealed));
            continue;
          }
          if (made.length === 0) continue;
          const { sealed } = made[s.open.pick % made.length]!;
          let value = sealed;
          if (s.open.change !== undefined) {
            const at = 3 + (s.open.change % (sealed.length - 3));
            value = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
          }
          expect(unseal(s.open.sid, s.open.key, value)).toBe(reference(s.open.sid, s.open.key, value));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a sid re-keyed under a store key never opens with the key derived for the earlier sid', () => {
    const key = 'koa:sess:same-key';
    const first = seal('first-sid', key, '{"n":1}');
    expect(unseal('first-sid', key, first)).toBe('{"n":1}');
    // Another sid under the same store key: the earlier sid's value does not open, its own does.
    expect(unseal('second-sid', key, first)).toBeUndefined();
    const second = seal('second-sid', key, '{"n":2}');
    expect(reference('second-sid', key, second)).toBe('{"n":2}');
    expect(reference('first-sid', key, second)).toBeUndefined();
    expect(unseal('first-sid', key, second)).toBeUndefined();
    expect(unseal('second-sid', key, second)).toBe('{"n":2}');
  });

  it('a value just sealed, changed in the store, does not open; the unchanged value still does', () => {
    const sealed = seal('the-sid', 'koa:sess:k', '{"user":"ann"}');
    const changed = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1);
    expect(unseal('the-sid', 'koa:sess:k', changed)).toBeUndefined();
    expect(unseal('the-sid', 'koa:sess:k', sealed)).toBe('{"user":"ann"}');
  });

  it('a JSON string with a lone surrogate opens as its UTF-8 bytes decode, as without memory', () => {
    const json = '{"name":"\ud800 alone"}';
    const sealed = seal('the-sid', 'koa:sess:k', json);
    expect(unseal('the-sid', 'koa:sess:k', sealed)).toBe(reference('the-sid', 'koa:sess:k', sealed));
    expect(unseal('the-sid', 'koa:sess:k', sealed)).not.toBe(json);
  });
});
