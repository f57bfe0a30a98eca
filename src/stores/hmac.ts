/**
 * HMAC (RFC 2104) over Node's one-shot `hash()`: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), with the two
 * padded key blocks prepared once per key. On Node 20 (OpenSSL 3.0) a `createHmac` object costs
 * several times the two hashes it runs (it fetches the digest and builds a context on each call),
 * and a new session asks for up to three of them (its cookie's signature, and with `seal` the two
 * of its sealing key). The inner digest travels as a binary (`binary`, latin1) string, which Node makes
 * faster than a Buffer, and the blocks are assembled in buffers reused from call to call (every
 * call is synchronous). test/security/hmac.test.ts pins this to `createHmac` for any key and data.
 */
import { hash } from 'node:crypto';

/** The block size of SHA-1 and SHA-256, in bytes. */
const BLOCK = 64;

type Algorithm = 'sha1' | 'sha256';
const DIGEST_BYTES: Record<Algorithm, number> = { sha1: 20, sha256: 32 };

/** A key ready for {@link hmac}: its two padded blocks. */
export interface HmacKey {
  readonly algorithm: Algorithm;
  readonly inner: Buffer;
  readonly outer: Buffer;
}

/** Prepares `key` (its bytes, or a binary string of them) for HMAC with `algorithm`. */
export function hmacKey(algorithm: Algorithm, key: Uint8Array | string): HmacKey {
  const prepared = { algorithm, inner: Buffer.allocUnsafe(BLOCK), outer: Buffer.allocUnsafe(BLOCK) };
  rekey(prepared, key);
  return prepared;
}

/**
 * Makes `prepared` the key `key` (same algorithm), in place: for a key used once, such as HKDF's
 * pseudorandom key, a prepared key can be reused instead of allocated.
 */
export function rekey(prepared: HmacKey, key: Uint8Array | string): void {
  const { algorithm, inner, outer } = prepared;
  if (innerOwner === prepared) innerOwner = undefined;
  if (outerOwner[algorithm] === prepared) outerOwner[algorithm] = undefined;
  let bytes = key;
  // A key longer than a block is replaced by its hash, as RFC 2104 says.
  if (bytes.length > BLOCK)
    bytes = hash(algorithm, typeof bytes === 'string' ? Buffer.from(bytes, 'binary') : bytes, 'buffer');
  inner.fill(0x36);
  outer.fill(0x5c);
  for (let i = 0; i < bytes.length; i++) {
    const byte = typeof bytes === 'string' ? bytes.charCodeAt(i) : bytes[i]!;
    inner[i]! ^= byte;
    outer[i]! ^= byte;
  }
}

/** The inner hash's input: the inner block, then the data (reused when the data fits). */
const innerInput = Buffer.allocUnsafe(BLOCK + 1024);
/** The outer hash's input per algorithm: the outer block, then the inner digest. */
const outerInput: Record<Algorithm, Buffer> = {
  sha1: Buffer.allocUnsafe(BLOCK + DIGEST_BYTES.sha1),
  sha256: Buffer.allocUnsafe(BLOCK + DIGEST_BYTES.sha256),
};
/**
 * Whose blocks the reused buffers start with: a key used again (the app's signing key, the seal's
 * salt) finds its block there already. A rekeyed key is no longer the owner of its old blocks.
 */
let innerOwner: HmacKey | undefined;
const outerOwner: Record<Algorithm, HmacKey | undefined> = { sha1: undefined, sha256: undefined };

/** `key`'s inner block followed by `data` (a string as its UTF-8 bytes, as `Hmac#update` takes it). */
function withInnerBlock(key: HmacKey, data: string | Uint8Array): Uint8Array {
  const room = innerInput.length - BLOCK;
  // A string's UTF-8 takes at most three bytes per UTF-16 unit.
  const fits = typeof data === 'string' ? data.length * 3 <= room : data.length <= room;
  let target = innerInput;
  if (!fits) {
    target = Buffer.allocUnsafe(BLOCK + Buffer.byteLength(data));
    key.inner.copy(target, 0);
  } else if (innerOwner !== key) {
    key.inner.copy(target, 0);
    innerOwner = key;
  }
  const length = typeof data === 'string' ? target.write(data, BLOCK, 'utf8') : (target.set(data, BLOCK), data.length);
  return target.subarray(0, BLOCK + length);
}

export function hmac(key: HmacKey, data: string | Uint8Array): Buffer;
export function hmac(key: HmacKey, data: string | Uint8Array, encoding: 'base64url' | 'binary'): string;
/** HMAC of `data` under `key`: the digest's bytes, or with `encoding` its text. */
export function hmac(key: HmacKey, data: string | Uint8Array, encoding?: 'base64url' | 'binary'): Buffer | string {
  const { algorithm } = key;
  const inner = hash(algorithm, withInnerBlock(key, data), 'binary');
  const outer = outerInput[algorithm];
  if (outerOwner[algorithm] !== key) {
    key.outer.copy(outer, 0);
    outerOwner[algorithm] = key;
  }
  outer.write(inner, BLOCK, 'binary');
  return encoding === undefined ? hash(algorithm, outer, 'buffer') : hash(algorithm, outer, encoding);
}
