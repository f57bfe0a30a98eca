/**
 * The `<key>.sig` cookie, as Koa's cookies (Keygrip) make it: HMAC-SHA1 of `name=value` with the
 * first of `app.keys`, in base64url; any of the keys verifies. Done here rather than through
 * Keygrip because its check (tsscmp) costs two more HMACs and random bytes per request and its keys
 * are prepared on every call; the comparison stays constant-time. An app whose `app.keys` is a
 * Keygrip instance has it used as is.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

interface Keygrip {
  sign(data: string): string;
  index(data: string, digest: string): number;
}

/** Prepared keys per `app.keys` array, checked against its current content. */
const prepared = new WeakMap<readonly unknown[], { source: unknown[]; keys: KeyObject[] }>();

function keyObjects(keys: readonly unknown[]): KeyObject[] {
  const cached = prepared.get(keys);
  if (cached && cached.source.length === keys.length && cached.source.every((k, i) => k === keys[i])) return cached.keys;
  const made = keys.map((k) => createSecretKey(Buffer.isBuffer(k) ? k : Buffer.from(String(k))));
  prepared.set(keys, { source: [...keys], keys: made });
  return made;
}

const digest = (key: KeyObject, data: string) => createHmac('sha1', key).update(data).digest('base64url');

export function sign(keys: unknown, data: string): string {
  if (!Array.isArray(keys)) return (keys as Keygrip).sign(data);
  return digest(keyObjects(keys)[0]!, data);
}

/** Which of the keys signed `data` into `sig`: 0 for the newest, -1 for none. */
export function signatureIndex(keys: unknown, data: string, sig: string): number {
  if (!Array.isArray(keys)) return (keys as Keygrip).index(data, sig);
  const given = Buffer.from(sig);
  const objects = keyObjects(keys);
  for (let i = 0; i < objects.length; i++) {
    const expected = Buffer.from(digest(objects[i]!, data));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
  }
  return -1;
}
