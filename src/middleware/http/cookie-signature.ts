/**
 * The `<key>.sig` cookie, as Koa's cookies (Keygrip) make it: HMAC-SHA1 of `name=value` with the
 * first of `app.keys`, in base64url; any of the keys verifies. Done here rather than through
 * Keygrip because its check (tsscmp) costs two more HMACs and random bytes per request and its keys
 * are prepared on every call; comparisons stay constant-time. The HMAC is two one-shot hashes with
 * each key's padded blocks prepared once (stores/hmac.ts), cheaper than a `createHmac` object on
 * Node 20. Only genuine signatures are ever remembered, so the memory cannot make a forged one
 * pass. An app whose `app.keys` is a Keygrip instance has it used as is.
 */
import { createHmac, KeyObject } from 'node:crypto';
import { hmac, hmacKey, type HmacKey } from '../../stores/hmac.js';

interface Keygrip {
  sign(data: string): string;
  index(data: string, digest: string): number;
}

/**
 * How many verified signatures of the newest key are remembered per `app.keys`: a returning
 * client's cookie is then checked without an HMAC (which was the largest cost of a read in the
 * profile).
 */
const REMEMBERED = 10_000;

interface Prepared {
  source: unknown[];
  keys: HmacKey[];
  /**
   * `name=value` → its signature with the newest key, for recently verified cookies, in
   * two generations: when the current one is full it becomes the previous one (constant time; a
   * Map emptied from the front would slow down its iteration).
   */
  signatures: Map<string, string>;
  previous: Map<string, string>;
}

/**
 * A key of `app.keys` as Keygrip (through `createHmac`) uses it, ready for HMAC-SHA1: a secret
 * KeyObject's bytes, a Buffer, TypedArray or DataView as its bytes, a string as its UTF-8 bytes.
 * Anything else is refused, as `createHmac` refuses it: turning it into text would make every such
 * app sign with the same public string (`[object KeyObject]`, say).
 */
function secretKey(key: unknown): HmacKey {
  if (key instanceof KeyObject) {
    // An asymmetric key is refused with createHmac's own error.
    if (key.type !== 'secret') createHmac('sha1', key);
    return hmacKey('sha1', key.export());
  }
  if (ArrayBuffer.isView(key)) return hmacKey('sha1', new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
  if (typeof key === 'string') return hmacKey('sha1', Buffer.from(key));
  throw new TypeError(`koa-session-machine: app.keys must hold strings, Buffers or KeyObjects, got ${typeof key}`);
}

/** Prepared keys per `app.keys` array, checked against its current content (keys rotate). */
const prepared = new WeakMap<readonly unknown[], Prepared>();

function prepare(keys: readonly unknown[]): Prepared {
  const cached = prepared.get(keys);
  if (cached && cached.source.length === keys.length && cached.source.every((k, i) => k === keys[i])) return cached;
  const made: Prepared = {
    source: [...keys],
    keys: keys.map(secretKey),
    signatures: new Map(),
    previous: new Map(),
  };
  prepared.set(keys, made);
  return made;
}

function remember(p: Prepared, data: string, sig: string): void {
  if (p.signatures.size >= REMEMBERED / 2) {
    p.previous = p.signatures;
    p.signatures = new Map();
  }
  p.signatures.set(data, sig);
}

function remembered(p: Prepared, data: string): string | undefined {
  return p.signatures.get(data) ?? p.previous.get(data);
}

const digest = (key: HmacKey, data: string) => hmac(key, data, 'base64url');

/**
 * Constant-time equality of a genuine signature and a client's: every character is compared,
 * whatever differs first, so the time tells nothing about how much of a forged signature was
 * right. (`timingSafeEqual` would need two Buffers per request; this was 1.5 µs of a read.)
 */
function same(genuine: string, claimed: string): boolean {
  if (genuine.length !== claimed.length) return false;
  let diff = 0;
  for (let i = 0; i < genuine.length; i++) diff |= genuine.charCodeAt(i) ^ claimed.charCodeAt(i);
  return diff === 0;
}

/**
 * Signs with the newest key. What is signed is a sid the client does not hold yet (a returning
 * client's own signature is sent back as it came), so nothing is looked up or remembered here: a
 * signature is remembered when the client first comes back with it, which spares the memory (and
 * the garbage collector) the sessions of clients that never return.
 */
export function sign(keys: unknown, data: string): string {
  if (!Array.isArray(keys)) return (keys as Keygrip).sign(data);
  return digest(prepare(keys).keys[0]!, data);
}

/** Which of the keys signed `data` into `sig`: 0 for the newest, -1 for none. */
export function signatureIndex(keys: unknown, data: string, sig: string): number {
  if (!Array.isArray(keys)) return (keys as Keygrip).index(data, sig);
  const p = prepare(keys);
  const known = remembered(p, data);
  if (known !== undefined && same(known, sig)) return 0;
  for (let i = 0; i < p.keys.length; i++) {
    if (!same(digest(p.keys[i]!, data), sig)) continue;
    if (i === 0) remember(p, data, sig);
    return i;
  }
  return -1;
}
