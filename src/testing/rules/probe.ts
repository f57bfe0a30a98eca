/**
 * What every rule file of the store contract shares: the probe a rule sees its store through (its
 * own keys, calls that accept every kind of store answer, cleanup), sessions and index entries as
 * the middleware writes them, and the shape of a rule.
 */
import assert from 'node:assert/strict';
import type { OwnerIndexEntry, StoredSession } from '../../index.js';
import type { ResolvedCapabilities } from '../instrumented.js';

/** The ttl, in ms, of the entries the ttl rules watch expire. */
export const SHORT_TTL = 100;
export const LONG_TTL = 60_000;
export const POLL = 20;
/** How long after indexAdd() the expiry rule's entry expires: it must still be listed half-way. */
export const INDEX_TTL = 1_000;

export type Loose = Record<string, any>;

/** A store call's value: a plain value, a Promise, or a callback thunk (as the middleware accepts). */
export function settle(result: unknown): Promise<any> {
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
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** A check's view of its store: its keys, calls that accept every kind of store answer, cleanup. */
export class Probe {
  private readonly keys = new Set<string>();
  private readonly owners = new Set<string>();
  constructor(
    readonly store: Loose,
    private readonly tag: string,
    readonly ttlBound: number,
  ) {}

  key(name = 'k'): string {
    const key = `ksm-conformance:${this.tag}:${name}`;
    this.keys.add(key);
    return key;
  }
  get(key: string): Promise<any> {
    return settle(this.store.get(key));
  }
  set(key: string, value: unknown, ttl?: number): Promise<unknown> {
    return settle(this.store.set(key, value, ttl));
  }
  destroy(key: string): Promise<unknown> {
    return settle(this.store.destroy(key));
  }
  /** An owner key of this check's own (the `index` capability), emptied by cleanup. */
  ownerKey(name = 'owner'): string {
    const key = `ksm-conformance:${this.tag}:owner:${name}`;
    this.owners.add(key);
    return key;
  }
  indexAdd(ownerKey: string, handle: string, entry: OwnerIndexEntry, expiresAt: number): Promise<unknown> {
    return settle(this.store.indexAdd(ownerKey, handle, entry, expiresAt));
  }
  indexRemove(ownerKey: string, handle: string): Promise<unknown> {
    return settle(this.store.indexRemove(ownerKey, handle));
  }
  /** `indexList(ownerKey)` as a Map of handle to entry, failing when it is not a list of `{ handle, entry }`. */
  async indexList(ownerKey: string): Promise<Map<string, OwnerIndexEntry>> {
    const listed: unknown = await settle(this.store.indexList(ownerKey));
    assert.ok(Array.isArray(listed), `indexList() gave ${JSON.stringify(listed)}, not an array`);
    const byHandle = new Map<string, OwnerIndexEntry>();
    for (const item of listed as { handle?: unknown; entry?: unknown }[]) {
      assert.ok(
        typeof item?.handle === 'string' && item.entry !== null && typeof item.entry === 'object',
        `indexList() gave ${JSON.stringify(item)}, not { handle, entry }`,
      );
      assert.ok(!byHandle.has(item.handle), `indexList() gave the handle ${item.handle} twice`);
      byHandle.set(item.handle, normalize(item.entry) as OwnerIndexEntry);
    }
    return byHandle;
  }
  /** Resolves once `get(key)` gives a falsy value; rejects with how long it waited after `bound`. */
  async goneWithin(key: string, bound: number): Promise<number | undefined> {
    const start = Date.now();
    for (;;) {
      if (!(await this.get(key))) return Date.now() - start;
      if (Date.now() - start > bound) return undefined;
      await sleep(POLL);
    }
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

export type Body = (s: Probe, supports: ResolvedCapabilities) => Promise<void>;

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
