/**
 * How a chaos run's counts are read (figures.ts): every acknowledged increment lost fails the run,
 * a late write of a failed request included (writes are fenced: docs/reliability.md), unless
 * Redis's own failover accounts for it (the replica had not received it). Increments applied
 * without a 200 are allowed up to the number of requests whose outcome was unknown. The logs are a
 * browser's requests as the harness records them, one after the other.
 */
import { describe, expect, it } from 'vitest';
import type { Browser, Exchange } from './browsers.js';
import { failures, figuresOf, type FaultReport } from './figures.js';

let clock = 0;
const ok = (count: number): Exchange => ({ sent: (clock += 10), answered: (clock += 5), status: 200, count });
const unavailable = (): Exchange => ({ sent: (clock += 10), answered: (clock += 1000), status: 503 });

function check(log: Exchange[], final: number, fault: Partial<FaultReport> = {}, stderr = '') {
  const browser = { name: 'b#1', log, final, finalError: undefined, key: 'k' } as unknown as Browser;
  const figures = figuresOf({
    variant: 'ksm',
    browsers: [browser],
    fault: { start: 0, end: 0, notes: {}, ...fault },
    bound: Number.MAX_SAFE_INTEGER,
    exit: undefined,
    stderr,
  });
  return { figures, failures: failures(figures, { no503: false }) };
}

describe('chaos figures: acknowledged increments lost', () => {
  it('a count read again after a 503 (its late write landed over a newer one) fails the run', () => {
    // The 503's write (2) landed after 3 was acknowledged: the next request read 2 again.
    const { figures, failures } = check([ok(1), unavailable(), ok(2), ok(3), ok(3), ok(4)], 4);
    expect(figures.lost).toBe(1);
    expect(failures).toEqual(["1 acknowledged increment(s) lost (0 more lost by Redis's failover)"]);
  });

  it('a final count below the last acknowledged one fails the run', () => {
    const { figures, failures } = check([ok(1), unavailable(), ok(2), ok(3)], 2);
    expect(figures.lost).toBe(1);
    expect(failures).toHaveLength(1);
  });

  it("what the replica had not received when its master died is Redis's loss, allowed", () => {
    // Acknowledged up to 3 before the kill at t = 1000; the promoted replica held 2.
    clock = 0;
    const before = [ok(1), ok(2), ok(3)];
    clock = 2_000;
    const { figures, failures } = check([...before, ok(3), ok(4)], 4, {
      start: 1_000,
      replicated: new Map([['k', 2]]),
    });
    expect([figures.lost, figures.lostAllowed]).toEqual([1, 1]);
    expect(failures).toEqual([]);
  });

  it('a count that jumps is applied unacknowledged: allowed up to the failed requests before it', () => {
    expect(check([ok(1), unavailable(), ok(3)], 3).failures).toEqual([]);
    expect(check([ok(1), unavailable(), ok(4)], 4).failures).toEqual([
      '1 increment(s) applied beyond the requests whose outcome was unknown',
    ]);
  });

  it('the late writes the app fenced off are counted from its notices, the live ones are not', () => {
    const stderr = 'chaos-fenced late\nchaos-connection connected 1\nchaos-fenced live\nchaos-fenced late\n';
    expect(check([ok(1), unavailable(), ok(2)], 2, {}, stderr).figures.fenced).toBe(2);
  });
});
