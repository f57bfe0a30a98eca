/**
 * When this process last wrote each session's index entry, by the session's store key, so that a
 * session in use refreshes its entry (`lastSeenAt`, and the expiry that `rolling` extends) at most
 * once per interval, never once per request; with what it wrote then, so that a write of the
 * session can tell whether the entry would change. Two generations of a Map, swapped every
 * interval: what is kept is bounded by the sessions written in the last two intervals, and
 * anything older is due anyway.
 */
export interface Mark {
  /** When the entry was written (ms since the epoch). */
  at: number;
}

export class RecentRefreshes<M extends Mark = Mark> {
  private recent = new Map<string, M>();
  private older = new Map<string, M>();
  private rotatedAt = Date.now();

  constructor(readonly interval: number) {}

  /** Whether `key`'s entry was last written by this process `interval` ms ago or more (or never). */
  due(key: string, now: number): boolean {
    return this.fresh(key, now) === undefined;
  }

  /** `key`'s mark when it is not due: written by this process less than `interval` ms ago. */
  fresh(key: string, now: number): M | undefined {
    this.rotate(now);
    const last = this.recent.get(key) ?? this.older.get(key);
    return last !== undefined && now - last.at < this.interval ? last : undefined;
  }

  /** `key`'s entry was written at `mark.at`. */
  mark(key: string, mark: M): void {
    this.rotate(mark.at);
    this.recent.set(key, mark);
  }

  forget(key: string): void {
    this.recent.delete(key);
    this.older.delete(key);
  }

  private rotate(now: number): void {
    const since = now - this.rotatedAt;
    if (since < this.interval) return;
    // After a quiet spell of two intervals, even the recent generation is due.
    this.older = since < 2 * this.interval ? this.recent : new Map();
    this.recent = new Map();
    this.rotatedAt = now;
  }
}
