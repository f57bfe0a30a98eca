/**
 * `seal: true`: a stored session is encrypted and authenticated with a key derived from its sid,
 * which the store never holds (with `hashIds`, its keys are hashes of sids). Without the cookie an
 * entry is unreadable, and an entry changed in the store fails its authentication: no session.
 *
 * - Key: HKDF-SHA256 (RFC 5869) of the sid, 32 bytes, with a fixed salt and the store key as
 *   `info`, so that each entry has its own key. It is written out as its two HMACs (hmac.ts)
 *   because `hkdfSync` costs several times as much per call (it builds key objects each time);
 *   test/security/seal.test.ts pins this to `hkdfSync` for any input.
 * - Cipher: AES-256-GCM, a random 96-bit IV per write, the store key as additional data (an entry
 *   copied under another key does not open), a 128-bit tag.
 * - Format: `v1.` then base64url of IV ‖ ciphertext ‖ tag.
 *
 * What a request pays for beyond the cipher is kept off its path (the costs are in
 * docs/performance.md): the IVs come from a pool of CSPRNG bytes (one `randomFillSync` per 256
 * writes; a call per IV cost more than the encryption), and the keys of sessions recently read are
 * remembered with the last value each sealed or opened ({@link Recent}): a request that reads back
 * what the last one wrote neither derives the key again nor decrypts it again.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { hmac, hmacKey, rekey } from './hmac.js';

const SALT = 'koa-session-machine/seal/v1';
const VERSION = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** HKDF-Extract's key is the fixed salt: its padded blocks are prepared once. */
const EXTRACT = hmacKey('sha256', Buffer.from(SALT));
/** HKDF-Expand's key, the pseudorandom key of the sid: rekeyed on every derivation. */
const EXPAND = hmacKey('sha256', '');

/** HKDF-SHA256(ikm = sid, salt, info = store key), 32 bytes: extract, then one block of expand. */
export function sealKey(sid: string, key: string): Buffer {
  const prk = hmac(EXTRACT, sid, 'binary');
  // T(1) = HMAC(PRK, info ‖ 0x01); the byte 0x01 is the UTF-8 of U+0001.
  rekey(EXPAND, prk);
  // As a binary string, then its bytes: cheaper than the digest as a Buffer made by Node.
  return Buffer.from(hmac(EXPAND, `${key}\u0001`, 'binary'), 'binary');
}

/** IVs: CSPRNG bytes drawn in blocks, each byte used once. */
const IV_POOL = Buffer.allocUnsafe(IV_BYTES * 256);
let ivOffset = IV_POOL.length;

/** The next IV: a view of the pool, copied into the sealed value before the pool is drawn again. */
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivOffset = 0;
  }
  const iv = IV_POOL.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/**
 * What this process knows about one store key: the sid and the sealing key derived from both, the
 * store key's bytes (the additional data), and the last value sealed or opened under it with its
 * JSON. Everything here is a function of (sid, store key, value) that is compared in full before it
 * is used, so a hit gives exactly what deriving and decrypting would: another sid, or any other
 * value (a changed byte, another write), misses.
 */
interface Known {
  readonly sid: string;
  readonly derived: Buffer;
  readonly aad: Buffer;
  sealed: string | undefined;
  json: string | undefined;
}

/**
 * How many store keys are remembered, in two generations (the current one becomes the previous one
 * when full, as for cookie signatures), and the longest JSON remembered with its sealed value
 * (larger sessions are decrypted each time, their cost being the cipher's rather than the set-up's).
 */
const REMEMBERED = 2_000;
const LONGEST_REMEMBERED_JSON = 2048;

class Recent {
  private current = new Map<string, Known>();
  private previous = new Map<string, Known>();

  /** What is remembered of `key` for `sid`: nothing for another sid (the key derived from it differs). */
  find(sid: string, key: string): Known | undefined {
    let known = this.current.get(key);
    if (known === undefined) {
      known = this.previous.get(key);
      if (known !== undefined) this.keep(key, known);
    }
    return known !== undefined && known.sid === sid ? known : undefined;
  }

  keep(key: string, known: Known): void {
    if (this.current.size >= REMEMBERED / 2) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, known);
  }
}

const recent = new Recent();

function derive(sid: string, key: string): Known {
  return { sid, derived: sealKey(sid, key), aad: Buffer.from(key), sealed: undefined, json: undefined };
}

/**
 * Remembers that `sealed` opens to `json`. A string with a lone surrogate is not: its UTF-8 bytes
 * hold U+FFFD instead, so opening it would not give it back (JSON.stringify never makes one).
 */
function remember(known: Known, sealed: string, json: string): void {
  const fits =
    json.length <= LONGEST_REMEMBERED_JSON && (json as unknown as { isWellFormed(): boolean }).isWellFormed();
  known.sealed = fits ? sealed : undefined;
  known.json = fits ? json : undefined;
}

/** The sealed form of `json`, the session's JSON, stored under `key`. */
export function seal(sid: string, key: string, json: string): string {
  // A key not remembered is a new session's (or one last used long ago): it is remembered once
  // its value is read back, so that clients that never come back hold no memory.
  const known = recent.find(sid, key);
  const { derived, aad } = known ?? derive(sid, key);
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', derived, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([iv, cipher.update(json, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const sealed = VERSION + body.toString('base64url');
  if (known !== undefined) remember(known, sealed, json);
  return sealed;
}

/** The JSON sealed in `sealed`, or `undefined` when it was not sealed with this sid and key, or was changed. */
export function unseal(sid: string, key: string, sealed: unknown): string | undefined {
  if (typeof sealed !== 'string' || !sealed.startsWith(VERSION)) return undefined;
  const known = recent.find(sid, key);
  if (known?.sealed === sealed) return known.json;
  const opening = known ?? derive(sid, key);
  const body = Buffer.from(sealed.slice(VERSION.length), 'base64url');
  if (body.length < IV_BYTES + TAG_BYTES) return undefined;
  let json: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', opening.derived, body.subarray(0, IV_BYTES));
    decipher.setAAD(opening.aad);
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    json = Buffer.concat([
      decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return undefined;
  }
  // Opened: its sid's client came back with it, and is remembered from now on.
  if (known === undefined) recent.keep(key, opening);
  remember(opening, sealed, json);
  return json;
}
