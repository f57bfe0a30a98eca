/**
 * The embedded store: one process, bounded, with expiry (see the MemoryStore row of docs/migrating-from-koa-generic-session.md).
 *
 * Entries are kept as JSON strings, so every `get` hands out a fresh copy and every `set` takes
 * one: a change a handler made but did not save never leaks into the next request. A `Map` keeps
 * insertion order, which makes it an LRU when an entry is moved to the end on each write; when the
 * bound is reached, expired entries are swept first and then the least recently written go.
 */
import type {
  CompareAndSetReply,
  ListedOwnerIndexEntry,
  LockOptions,
  OwnerIndexEntry,
  SessionLock,
  SessionStore,
  StoredSession,
  VersionedEntry,
} from './types.js';
import { jsonForWrite, sessionFromJson } from './serialized.js';
import { KeyedQueue } from './keyed-queue.js';
import { MemoryOwnerIndexes } from './memory-owner-index.js';

export interface MemoryStoreOptions {
  /** The most sessions held at once (default 100 000); the least recently written go first. */
  maxEntries?: number;
  /** A clock, for tests of expiry. */
  now?: () => number;
}

interface Entry {
  json: string;
  /** Epoch ms after which the entry is gone; `Infinity` for no expiry. */
  expiresAt: number;
}

export class MemoryStore implements SessionStore {
  readonly maxEntries: number;
  private readonly entries = new Map<string, Entry>();
  private readonly turns = new KeyedQueue();
  private readonly now: () => number;
  private readonly indexes: MemoryOwnerIndexes;

  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries = 100_000, now = Date.now } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`MemoryStore: maxEntries must be a positive integer, got ${String(maxEntries)}`);
    }
    this.maxEntries = maxEntries;
    this.now = now;
    this.indexes = new MemoryOwnerIndexes(now);
  }

  /** How many entries are held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  get(key: string): StoredSession | undefined {
    const entry = this.live(key);
    return entry === undefined ? undefined : sessionFromJson(entry.json);
  }

  /** The `compareAndSet` capability: the entry's version is its JSON (the same string object until it is rewritten). */
  getVersioned(key: string): VersionedEntry | undefined {
    const entry = this.live(key);
    return entry === undefined ? undefined : { session: sessionFromJson(entry.json), version: entry.json };
  }

  /**
   * Writes only if the entry is still the version `expected` (`null`: only if there is none), or
   * already holds exactly this session; otherwise nothing is written, and the reply holds what is
   * there (see `SessionStore.compareAndSet`).
   */
  compareAndSet(
    key: string,
    session: StoredSession,
    ttl: number | undefined,
    expected: string | null,
  ): CompareAndSetReply {
    const json = jsonForWrite(session);
    const entry = this.live(key);
    if (entry === undefined) {
      if (expected !== null) return { written: false };
    } else if (entry.json !== expected && entry.json !== json) {
      return { written: false, current: { session: sessionFromJson(entry.json), version: entry.json } };
    }
    this.write(key, json, ttl);
    return { written: true, version: json };
  }

  set(key: string, session: StoredSession, ttl?: number): void {
    this.write(key, jsonForWrite(session), ttl);
  }

  update(key: string, session: StoredSession, ttl?: number): boolean {
    if (this.live(key) === undefined) return false;
    this.write(key, jsonForWrite(session), ttl);
    return true;
  }

  /** Writes only if `key` holds no live entry (see `SessionStore.add`). */
  add(key: string, session: StoredSession, ttl?: number): boolean {
    if (this.live(key) !== undefined) return false;
    this.write(key, jsonForWrite(session), ttl);
    return true;
  }

  touch(key: string, ttl?: number): boolean {
    const entry = this.live(key);
    if (entry === undefined) return false;
    entry.expiresAt = this.expiry(ttl);
    return true;
  }

  destroy(key: string): void {
    this.entries.delete(key);
  }

  /**
   * An in-process lock per key: one process holds all of this store's sessions, so a queue per
   * key serializes their requests, in arrival order; a request that runs out of `wait` gets
   * `undefined`. (`lease` does not apply: the holder cannot die without the store dying with it.)
   */
  lock(key: string, options: LockOptions): SessionLock | Promise<SessionLock | undefined> {
    const turn = this.turns.enter(key, options.wait);
    if (turn === true) return this.heldLock(key);
    return turn.then((mine) => (mine ? this.heldLock(key) : undefined));
  }

  private heldLock(key: string): SessionLock {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.turns.leave(key);
      },
    };
  }

  /** The `index` capability (the `owner` option): see memory-owner-index.ts. */
  indexAdd(ownerKey: string, handle: string, entry: OwnerIndexEntry, expiresAt: number): void {
    this.indexes.add(ownerKey, handle, entry, expiresAt);
  }

  indexRemove(ownerKey: string, handle: string): void {
    this.indexes.remove(ownerKey, handle);
  }

  indexList(ownerKey: string): ListedOwnerIndexEntry[] {
    return this.indexes.list(ownerKey);
  }

  /** Removes every entry, and every owner's index. */
  clear(): void {
    this.entries.clear();
    this.indexes.clear();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private expiry(ttl: number | undefined): number {
    return ttl === undefined ? Infinity : this.now() + ttl;
  }

  private write(key: string, json: string, ttl: number | undefined): void {
    // Delete first so that the entry moves to the end of the insertion order (most recent).
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.makeRoom();
    this.entries.set(key, { json, expiresAt: this.expiry(ttl) });
  }

  private makeRoom(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    // Still full: drop the least recently written, down to 90% so that the sweep is amortized.
    const target = Math.floor(this.maxEntries * 0.9);
    for (const key of this.entries.keys()) {
      if (this.entries.size <= target) break;
      this.entries.delete(key);
    }
  }
}
