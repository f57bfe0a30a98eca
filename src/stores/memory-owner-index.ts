/**
 * The MemoryStore's index of sessions per owner (the `index` capability, for the `owner` option):
 * a Map of handles per owner key. Entries are kept as JSON, so what `list` hands out is a copy.
 *
 * Expired entries are dropped when an owner's index is listed, and when it is added to once it has
 * doubled in size since its last sweep: an owner's sweep then costs O(1) per add, amortized.
 */
import type { ListedOwnerIndexEntry, OwnerIndexEntry } from './types.js';

interface Indexed {
  json: string;
  createdAt: number;
  expiresAt: number;
}

interface OwnerEntries {
  entries: Map<string, Indexed>;
  /** The size at which the next add sweeps expired entries first. */
  sweepAt: number;
}

/** The smallest index that is swept on add. */
const MIN_SWEEP = 16;

export class MemoryOwnerIndexes {
  private readonly owners = new Map<string, OwnerEntries>();

  constructor(private readonly now: () => number) {}

  add(ownerKey: string, handle: string, entry: OwnerIndexEntry, expiresAt: number): void {
    if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) {
      throw new TypeError(`MemoryStore: expiresAt must be ms since the epoch or Infinity, got ${String(expiresAt)}`);
    }
    let owner = this.owners.get(ownerKey);
    if (owner === undefined) this.owners.set(ownerKey, (owner = { entries: new Map(), sweepAt: MIN_SWEEP }));
    else if (owner.entries.size >= owner.sweepAt) this.sweep(owner);
    const createdAt = owner.entries.get(handle)?.createdAt ?? entry.createdAt;
    owner.entries.set(handle, { json: JSON.stringify(entry), createdAt, expiresAt });
  }

  remove(ownerKey: string, handle: string): void {
    const owner = this.owners.get(ownerKey);
    if (owner === undefined) return;
    owner.entries.delete(handle);
    if (owner.entries.size === 0) this.owners.delete(ownerKey);
  }

  list(ownerKey: string): ListedOwnerIndexEntry[] {
    const owner = this.owners.get(ownerKey);
    if (owner === undefined) return [];
    this.sweep(owner);
    if (owner.entries.size === 0) this.owners.delete(ownerKey);
    return [...owner.entries].map(([handle, { json, createdAt }]) => ({
      handle,
      entry: { ...(JSON.parse(json) as OwnerIndexEntry), createdAt },
    }));
  }

  clear(): void {
    this.owners.clear();
  }

  private sweep(owner: OwnerEntries): void {
    const now = this.now();
    for (const [handle, { expiresAt }] of owner.entries) if (expiresAt <= now) owner.entries.delete(handle);
    owner.sweepAt = Math.max(MIN_SWEEP, owner.entries.size * 2);
  }
}
