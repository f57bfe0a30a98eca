/**
 * When this process last wrote each session's index entry, by the session's store key, so that a
 * session in use refreshes its entry (`lastSeenAt`, and the expiry that `rolling` extends) at most
 * once per interval, never once per request. Two generations of a Map, swapped every interval: what
 * is kept is bounded by the sessions written in the last two intervals, and anything older is due
 * anyway.
 */
export class RecentRefreshes {
  private recent = new Map<string, number>();
  private older = new Map<string, number>();
  private rotatedAt = Date.now();

  constructor(readonly interval: number) {}

  /** Whether `key`'s entry was last written by this process `interval` ms ago or more (or never). */
  due(key: string, now: number): boolean {
    this.rotate(now);
    const last = this.recent.get(key) ?? this.older.get(key);
    return last === undefined || now - last >= this.interval;
  }

  mark(key: string, at: number): void {
    this.rotate(at);
    this.recent.set(key, at);
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
