/**
 * A session's JSON, handed between the middleware and this package's stores so that it is made
 * once: the middleware serializes a session to compare it and to check its size, then announces
 * that JSON right before the write, and the store takes it instead of serializing again; a store
 * that read a session from its JSON tells the middleware, which compares against it instead of
 * serializing what it was just given. Each hand-over is taken once, so a stale string is never
 * used for an object changed since. Stores that do not take part serialize as they always did.
 */
import { reviveSession } from './revive.js';
import type { StoredSession } from './types.js';

const announced = new WeakMap<object, string>();
const read = new WeakMap<object, string>();

/** Middleware: `json` is `session` serialized now, for the write that follows at once. */
export function announceJson(session: object, json: string): void {
  announced.set(session, json);
}

/** Store: the JSON to write for `session`. */
export function jsonForWrite(session: object): string {
  const json = announced.get(session);
  if (json === undefined) return JSON.stringify(session);
  announced.delete(session);
  return json;
}

/** Store: `session` was just parsed from `json`. */
export function rememberReadJson(session: object, json: string): void {
  read.set(session, json);
}

/** Middleware: the JSON `session` was read from, if a store said so; taken once. */
export function takeReadJson(session: object): string | undefined {
  const json = read.get(session);
  if (json !== undefined) read.delete(session);
  return json;
}

/** Store: the session in stored `json` (remembered for the middleware), or `undefined` for garbage. */
export function sessionFromJson(json: string): StoredSession | undefined {
  let session: StoredSession | undefined;
  try {
    session = reviveSession(JSON.parse(json));
  } catch {
    return undefined;
  }
  if (session !== undefined) rememberReadJson(session, json);
  return session;
}
