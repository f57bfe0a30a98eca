/**
 * The hand-written HMAC (src/stores/hmac.ts, two one-shot hashes) against Node's `createHmac`, for
 * SHA-1 (cookie signatures) and SHA-256 (the sealing key): any key, short, one block or longer than
 * a block, and any data, text (lone surrogates included) or bytes, short or long; the digest as
 * bytes, base64url or a binary string.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmac, hmacKey, rekey, type HmacKey } from '../../src/stores/hmac.js';

const RUNS = { numRuns: 500 };
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
// Data beyond 1 KiB too: it no longer fits the reused buffer, and gets one of its own.
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: codeUnit }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: codeUnit, minLength: 300, maxLength: 1500 }),
);
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ minLength: 1000, maxLength: 1100 }).map((b) => Buffer.from(b)),
);
/** Keys around the 64-byte block: shorter, exactly one block, longer (hashed first). */
const key = fc.oneof(
  bytes,
  fc.uint8Array({ minLength: 63, maxLength: 66 }).map((b) => Buffer.from(b)),
);

describe('hmac is the HMAC createHmac makes', () => {
  for (const algorithm of ['sha1', 'sha256'] as const) {
    it(`${algorithm}, of text and of bytes, as bytes and as base64url`, () => {
      fc.assert(
        fc.property(key, fc.oneof(text, bytes), (k, data) => {
          const prepared = hmacKey(algorithm, k);
          const expected = createHmac(algorithm, k).update(data).digest();
          expect(hmac(prepared, data).equals(expected)).toBe(true);
          expect(hmac(prepared, data, 'base64url')).toBe(expected.toString('base64url'));
          expect(hmac(prepared, data, 'binary')).toBe(expected.toString('latin1'));
          // The key given as a binary string of its bytes is the same key.
          expect(hmac(hmacKey(algorithm, k.toString('latin1')), data).equals(expected)).toBe(true);
        }),
        RUNS,
      );
    });
  }

  it('a prepared key gives the same answers however often it is used', () => {
    const prepared = hmacKey('sha256', Buffer.from('key'));
    const first = hmac(prepared, 'data');
    hmac(prepared, 'other data');
    expect(hmac(prepared, 'data').equals(first)).toBe(true);
    expect(first.equals(createHmac('sha256', 'key').update('data').digest())).toBe(true);
  });

  it("keys used in any order, some rekeyed in place, give createHmac's answers", () => {
    // The reused buffers keep the blocks of the key used last: every switch, and every rekey of
    // the key whose blocks they hold, must be seen.
    type Step = { use: number; data: string } | { rekey: number; key: Uint8Array };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ use: fc.nat(3), data: text }),
      fc.record({ rekey: fc.nat(3), key }),
    );
    fc.assert(
      fc.property(fc.array(key, { minLength: 4, maxLength: 4 }), fc.array(step, { maxLength: 40 }), (start, steps) => {
        const raw: Uint8Array[] = [...start];
        const algorithms = ['sha1', 'sha256', 'sha256', 'sha1'] as const;
        const keys: HmacKey[] = raw.map((k, i) => hmacKey(algorithms[i]!, k));
        for (const s of steps) {
          if ('rekey' in s) {
            rekey(keys[s.rekey]!, s.key);
            raw[s.rekey] = s.key;
            continue;
          }
          const expected = createHmac(algorithms[s.use]!, raw[s.use]!).update(s.data).digest();
          expect(hmac(keys[s.use]!, s.data).equals(expected)).toBe(true);
        }
      }),
      RUNS,
    );
  });
});
