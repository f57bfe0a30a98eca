/**
 * Expiry, checked from both sides, the same way for every ttl rule (set, update, add, touch, index
 * entries): an entry is there until shortly before its expiry, and gone soon after it.
 *
 * Deterministic for both kinds of store. Each rule gives several entries, with ttls a little apart
 * (EXPIRY_TTLS), and looks at each in turn until it is gone:
 *
 * - An answer of "gone" fails only when the call that gave it ended more than EARLY_GRACE before
 *   the earliest moment the entry may expire: the ttl counted from before the call that set it was
 *   issued. A slow store or a busy machine makes that answer later, never earlier, so a correct
 *   store cannot fail this way.
 * - An answer of "still there" fails only when the call that gave it was issued more than
 *   `ttlBound` after the latest moment the entry may expire: the ttl counted from when the setting
 *   call had answered.
 * - A store that keeps its expiry in whole seconds rounded down loses an entry at the last whole
 *   second before its expiry, up to a second early. The ttls are spread over a second, so whatever
 *   the clock reads when the rule starts, one entry is lost at least 875 ms early: hundreds of ms in
 *   which the next look fails the store, in every run. A store that rounds up (Redis `EX`) keeps
 *   entries up to a second longer, which `ttlBound` allows.
 */
import { described } from '../failure.js';
import { POLL, sleep, type Probe } from './probe.js';

/** The ttls of one rule's entries: 1 s and more, 125 ms apart, spread over a second. */
export const EXPIRY_TTLS: readonly number[] = [1000, 1125, 1250, 1375, 1500, 1625, 1750, 1875];
/** "Shortly before": a store's clock may be this far ahead of the kit's. */
export const EARLY_GRACE = 50;

/** An entry that is to expire, and when. */
export interface Expiring {
  /** What the failure names: the key, or an index handle's owner key. */
  key: string;
  /** A description of the entry for the failure (`an entry set with a ttl of 1000 ms`). */
  what: string;
  /** The earliest moment (ms since the epoch) it may expire. */
  from: number;
  /** The latest moment it may expire. */
  until: number;
  /** Whether the store still has it. */
  present(): Promise<boolean>;
}

/**
 * Runs `write(ttl)` for an entry, timed: the entry may expire from `ttl` after the call was issued
 * until `ttl` after it answered.
 */
export async function timed(ttl: number, write: () => Promise<unknown>): Promise<{ from: number; until: number }> {
  const issued = Date.now();
  await write();
  return { from: issued + ttl, until: Date.now() + ttl };
}

/** Looks at each entry until it is gone; fails when one is gone early or stays too long. */
export async function watchExpiry(s: Probe, entries: readonly Expiring[]): Promise<void> {
  let pending = [...entries];
  while (pending.length > 0) {
    const still: Expiring[] = [];
    for (const entry of pending) {
      const issued = Date.now();
      const here = await entry.present();
      const answered = Date.now();
      if (!here) {
        const early = entry.from - answered;
        s.check(
          early <= EARLY_GRACE,
          entry.key,
          `${entry.what} was gone ${early} ms before its expiry (is the expiry kept in whole seconds, rounded down?)`,
          described(`there until ${EARLY_GRACE} ms before its expiry`),
          described(`gone ${early} ms before it`),
        );
        continue;
      }
      const late = issued - entry.until;
      s.check(
        late <= s.ttlBound,
        entry.key,
        `${entry.what} was still there ${late} ms after its expiry (is the ttl read as seconds instead of ms?)`,
        described(`gone within ${s.ttlBound} ms (ttlBound) after its expiry`),
        described(`still there ${late} ms after it`),
      );
      still.push(entry);
    }
    pending = still;
    if (pending.length > 0) await sleep(POLL);
  }
}

/**
 * Writes one entry per ttl of EXPIRY_TTLS with `write(key, ttl)`, each on a key of its own, then
 * watches them expire. `what` says how they were written (`an entry set`).
 */
export async function entriesExpire(
  s: Probe,
  what: string,
  write: (key: string, ttl: number) => Promise<unknown>,
): Promise<void> {
  const entries: Expiring[] = [];
  for (const ttl of EXPIRY_TTLS) {
    const key = s.key();
    const { from, until } = await timed(ttl, () => write(key, ttl));
    entries.push({
      key,
      what: `${what} with a ttl of ${ttl} ms`,
      from,
      until,
      present: async () => Boolean(await s.get(key)),
    });
  }
  await watchExpiry(s, entries);
}
