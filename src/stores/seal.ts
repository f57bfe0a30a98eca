/**
 * `seal: true`: a stored session is encrypted and authenticated with a key derived from its sid,
 * which the store never holds (with `hashIds`, its keys are hashes of sids). Without the cookie an
 * entry is unreadable, and an entry changed in the store fails its authentication: no session.
 *
 * - Key: HKDF-SHA256 (RFC 5869) of the sid, 32 bytes, with a fixed salt and the store key as
 *   `info`, so that each entry has its own key. It is written out as its two HMACs because
 *   `hkdfSync` costs several times as much per call (it builds key objects each time);
 *   test/stores/seal.test.ts pins this to `hkdfSync` for any input.
 * - Cipher: AES-256-GCM, a random 96-bit IV per write, the store key as additional data (an entry
 *   copied under another key does not open), a 128-bit tag.
 * - Format: `v1.` then base64url of IV ‖ ciphertext ‖ tag.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const SALT = 'koa-session-machine/seal/v1';
const VERSION = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** HKDF-SHA256(ikm = sid, salt, info = store key), 32 bytes: extract, then one block of expand. */
export function sealKey(sid: string, key: string): Buffer {
  const prk = createHmac('sha256', SALT).update(sid).digest();
  return createHmac('sha256', prk).update(key).update(Buffer.of(1)).digest();
}

/**
 * The last key derived: a request that rewrites its session opens and seals it under the same sid,
 * so it derives the key once (two HMACs, about a third of a seal's cost).
 */
let last: { sid: string; key: string; derived: Buffer } | undefined;

function keyFor(sid: string, key: string): Buffer {
  if (last !== undefined && last.sid === sid && last.key === key) return last.derived;
  const derived = sealKey(sid, key);
  last = { sid, key, derived };
  return derived;
}

/** The sealed form of `json`, the session's JSON, stored under `key`. */
export function seal(sid: string, key: string, json: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(sid, key), iv);
  cipher.setAAD(Buffer.from(key));
  const body = Buffer.concat([iv, cipher.update(json, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return VERSION + body.toString('base64url');
}

/** The JSON sealed in `sealed`, or `undefined` when it was not sealed with this sid and key, or was changed. */
export function unseal(sid: string, key: string, sealed: unknown): string | undefined {
  if (typeof sealed !== 'string' || !sealed.startsWith(VERSION)) return undefined;
  const body = Buffer.from(sealed.slice(VERSION.length), 'base64url');
  if (body.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(sid, key), body.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(key));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return undefined;
  }
}
