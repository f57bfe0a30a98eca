/**
 * The sealing of stored sessions (src/stores/seal.ts): its hand-written HKDF is pinned to Node's
 * `hkdfSync` for any input, a sealed value opens only with its own sid and key, and any change to
 * it makes it unreadable rather than an error.
 */
import { hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seal, sealKey, unseal } from '../../src/stores/seal.js';

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
});
