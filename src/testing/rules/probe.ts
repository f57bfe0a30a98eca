/**
 * What every rule file of the store contract shares: the probe a rule sees its store through (its
 * own keys, calls that accept every kind of store answer, assertions that name the key, cleanup),
 * sessions and index entries as the middleware writes them, and the shape of a rule.
 */
import { isDeepStrictEqual } from 'node:util';
import type { OwnerIndexEntry, StoredSession } from '../../index.js';
import { described, RuleFailure } from '../failure.js';
import type { ResolvedCapabilities, StoreCapabilities } from '../instrumented.js';
import type { KeyMaker } from '../keys.js';

/** The ttl of entries that must outlive the check. */
export const LONG_TTL = 60_000;
/** ms between two looks at an entry that is to expire. */
export const POLL = 20;

export type Loose = Record<string, any>;

/** A store call's value: a plain value, a Promise, or a callback thunk (as the middleware accepts). */
export function asPromise(result: unknown): Promise<any> {
  if (typeof result === 'function') {
    return new Promise((resolve, reject) =>
      (result as (cb: (err: unknown, v?: unknown) => void) => void)((err, v) => (err ? reject(err) : resolve(v))),
    );
  }
  return Promise.resolve(result);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An index entry as the middleware writes one. */
export function indexEntry(key: string, info?: Record<string, unknown>): OwnerIndexEntry {
  const now = Date.now();
  return { key, createdAt: now, lastSeenAt: now, ...(info ? { info } : {}) };
}

/** A session as the middleware writes one. */
export function sessionOf(fields: Record<string, unknown> = {}): StoredSession {
  return { cookie: { path: '/', httpOnly: true, maxAge: LONG_TTL, sameSite: 'lax' }, ...fields };
}

/** JSON's view of a value: a `cookie.expires` Date and its ISO string compare equal. */
export function normalize(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

const NOTHING = described('nothing (a falsy value)');

/**
 * A check's view of its store: keys of its own (keys.ts), calls that accept every kind of store
 * answer and turn a store's error into a failure naming the key, the rule's assertions, and cleanup.
 */
export class Probe {
  private readonly keys = new Set<string>();
  private readonly owners = new Set<string>();
  constructor(
    readonly store: Loose,
    private readonly keyMaker: KeyMaker,
    readonly ttlBound: number,
  ) {}

  /** A new key of this check's own, destroyed by cleanup. */
  key(): string {
    const key = this.keyMaker.next();
    this.keys.add(key);
    return key;
  }
  /** A key made of `prefix` and `sid`, destroyed by cleanup (the key shape rule's). */
  keyOf(prefix: string, sid: string): string {
    const key = prefix + sid;
    this.keys.add(key);
    return key;
  }
  /** An owner key of this check's own (the `index` capability), emptied by cleanup. */
  ownerKey(): string {
    const key = this.keyMaker.next();
    this.owners.add(key);
    return key;
  }
  /** A draw of the check's sids (the key shape rule writes every shape). */
  get sids(): KeyMaker {
    return this.keyMaker;
  }

  /** `store[method](key, ...args)`, settled; a store error fails the rule, naming the call and the key. */
  async call(method: string, key: string, ...args: unknown[]): Promise<any> {
    try {
      return await asPromise(this.store[method](key, ...args));
    } catch (err) {
      throw new RuleFailure(`${method}() failed`, key, described('an answer, not an error'), err);
    }
  }
  get(key: string): Promise<any> {
    return this.call('get', key);
  }
  set(key: string, value: unknown, ttl?: number): Promise<unknown> {
    return this.call('set', key, value, ttl);
  }
  destroy(key: string): Promise<unknown> {
    return this.call('destroy', key);
  }
  indexAdd(ownerKey: string, handle: string, entry: OwnerIndexEntry, expiresAt: number): Promise<unknown> {
    return this.call('indexAdd', ownerKey, handle, entry, expiresAt);
  }
  indexRemove(ownerKey: string, handle: string): Promise<unknown> {
    return this.call('indexRemove', ownerKey, handle);
  }
  /** `indexList(ownerKey)` as a Map of handle to entry, failing when it is not a list of `{ handle, entry }`. */
  async indexList(ownerKey: string): Promise<Map<string, OwnerIndexEntry>> {
    const listed: unknown = await this.call('indexList', ownerKey);
    this.check(Array.isArray(listed), ownerKey, 'indexList() gave no array', described('an array'), listed);
    const byHandle = new Map<string, OwnerIndexEntry>();
    for (const item of listed as { handle?: unknown; entry?: unknown }[]) {
      this.check(
        typeof item?.handle === 'string' && item.entry !== null && typeof item.entry === 'object',
        ownerKey,
        'indexList() gave an item that is not { handle, entry }',
        described('{ handle, entry }'),
        item,
      );
      this.check(
        !byHandle.has(item.handle as string),
        ownerKey,
        `indexList() gave the handle ${String(item.handle)} twice`,
        described('each handle once'),
        listed,
      );
      byHandle.set(item.handle as string, normalize(item.entry) as OwnerIndexEntry);
    }
    return byHandle;
  }

  /** Fails the rule unless `ok`: `message`, under `key`, with what was expected and what came back. */
  check(ok: boolean, key: string | undefined, message: string, expected: unknown, actual: unknown): void {
    if (!ok) throw new RuleFailure(message, key, expected, actual);
  }
  /** `actual === expected`. */
  equal(key: string | undefined, actual: unknown, expected: unknown, message: string): void {
    this.check(actual === expected, key, message, expected, actual);
  }
  /** `actual` and `expected` are alike as JSON (a Date and its ISO string alike). */
  same(key: string | undefined, actual: unknown, expected: unknown, message: string): void {
    this.check(isDeepStrictEqual(normalize(actual), normalize(expected)), key, message, expected, actual);
  }
  /** `actual` is falsy: the store gave nothing. */
  nothing(key: string, actual: unknown, message: string): void {
    this.check(!actual, key, message, NOTHING, actual);
  }

  async cleanup(): Promise<void> {
    for (const ownerKey of this.owners) {
      try {
        for (const handle of (await this.indexList(ownerKey)).keys()) await this.indexRemove(ownerKey, handle);
      } catch {
        // Best effort, as for keys.
      }
    }
    for (const key of this.keys) {
      try {
        await this.destroy(key);
      } catch {
        // Best effort: the check's result is what matters.
      }
    }
  }
}

/** A rule's check, given the store's probe, the capabilities under test and what the author declared. */
export type Body = (s: Probe, supports: ResolvedCapabilities, declared: StoreCapabilities) => Promise<void>;

export interface Rule {
  rule: string;
  /** Capabilities the rule needs beyond its group's. */
  needs?: (keyof ResolvedCapabilities)[];
  body: Body;
}

/** The rules of one capability (or of the plain contract), run only when the store supports it. */
export interface RuleGroup {
  /** The capability every rule of the group needs; none for the plain contract. */
  capability?: keyof ResolvedCapabilities;
  rules: Rule[];
}
