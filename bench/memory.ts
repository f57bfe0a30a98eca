/**
 * The memory check (`npx tsx bench/memory.ts`): one million distinct sessions through
 * the MemoryStore keep the process within the store's bound, and expired entries are reclaimed.
 *
 * What it measures: sessions are written the way the middleware writes a new session at the end of
 * a request — through the middleware's own store layer (`StoreAdapter`: key prefix, TTL rule of
 * docs/lifecycle.md) into a `MemoryStore` — with a fresh sid from the default generator (24 random bytes)
 * and the session the counter app stores (`{ cookie: <default cookie options>, count }`). No HTTP,
 * no Koa: this isolates the store's memory from the server's. The store's `now` option is a fake
 * clock, advanced by 1 ms per write, so that expiry can be driven in seconds of real time.
 *
 * Phases:
 *   1. 1 000 000 sessions with the default TTL (one day, from cookie.maxAge): nothing expires, so
 *      the bound (maxEntries) is held by evicting the least recently written.
 *   2. The clock jumps past the TTL: a read of an expired sid finds nothing and drops the entry;
 *      the others stay until a write finds the store full (there is no timer), and that sweep
 *      reclaims every expired entry at once.
 *   3. 400 000 more sessions with a 60 s TTL (at most ~60 000 alive at any time): the sweeps reclaim
 *      expired entries, so no live session is ever evicted (every one of the last 60 000 is found).
 *
 * RSS and heap are read after a forced GC. Exit code 1 when a check fails.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { randomSid } from '../src/middleware/http/random-sid.js';
import { DEFAULT_COOKIE } from '../src/middleware/option-values.js';
import { StoreAdapter } from '../src/stores/adapter.js';
import { MemoryStore } from '../src/stores/memory.js';
import type { StoredSession } from '../src/stores/types.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TOTAL = Number(process.env.MEMORY_SESSIONS ?? 1_000_000);
const MAX_ENTRIES = Number(process.env.MEMORY_MAX_ENTRIES ?? 100_000);
const REPORT_EVERY = TOTAL / 10;
const SHORT_TTL = 60_000;
const PHASE3 = Math.min(TOTAL, 400_000);

let clock = Date.UTC(2026, 0, 1);
const MB = 2 ** 20;
const started = Date.now();
const failures: string[] = [];

function memory(): { rss: number; heap: number } {
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: rss / MB, heap: heapUsed / MB };
}

function row(label: string, store: MemoryStore): { rss: number; heap: number } {
  const m = memory();
  console.log(
    `${label.padEnd(34)} size ${String(store.size).padStart(7)}   RSS ${m.rss.toFixed(1).padStart(6)} MB   heap ${m.heap.toFixed(1).padStart(6)} MB   ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return m;
}

function check(ok: boolean, message: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failures.push(message);
}

function newSession(): StoredSession {
  // What the counter app's first `/get` stores: the default cookie options and one field.
  return { cookie: { ...DEFAULT_COOKIE }, count: 1 };
}

function writeSessions(
  adapter: StoreAdapter,
  count: number,
  onProgress?: (done: number) => void,
  keepLast = 0,
): string[] {
  const last: string[] = [];
  for (let i = 1; i <= count; i++) {
    clock += 1;
    const sid = randomSid(24);
    adapter.set(sid, newSession());
    if (count - i < keepLast) last.push(sid);
    if (onProgress && i % REPORT_EVERY === 0) onProgress(i);
  }
  return last;
}

const baseline = memory();
console.log(
  `Node ${process.version}; ${TOTAL.toLocaleString('en')} sessions per phase, maxEntries ${MAX_ENTRIES.toLocaleString('en')}`,
);
console.log(`process before any session: RSS ${baseline.rss.toFixed(1)} MB, heap ${baseline.heap.toFixed(1)} MB\n`);

// Phase 1 -----------------------------------------------------------------------------------
console.log('Phase 1: default TTL (one day), nothing expires; the bound evicts the least recently written');
const store = new MemoryStore({ maxEntries: MAX_ENTRIES, now: () => clock });
const adapter = new StoreAdapter(store, { prefix: 'koa:sess:', ttl: undefined });
const firstSids: string[] = [];
for (let i = 0; i < 10; i++) {
  clock += 1;
  const sid = randomSid(24);
  adapter.set(sid, newSession());
  firstSids.push(sid);
}
const samples: { done: number; rss: number; heap: number; size: number }[] = [];
const [lastSid] = writeSessions(
  adapter,
  TOTAL - firstSids.length,
  (done) => {
    const m = row(`  ${(done + firstSids.length).toLocaleString('en')} sessions written`, store);
    samples.push({ done, ...m, size: store.size });
  },
  1,
);
const atBound = samples[0]!;
const atEnd = samples.at(-1)!;
check(
  samples.every((s) => s.size <= MAX_ENTRIES),
  `the store never held more than maxEntries (largest ${Math.max(...samples.map((s) => s.size))})`,
);
check(
  atEnd.heap <= atBound.heap * 1.25 + 5,
  `heap stays flat once the bound is reached: ${atBound.heap.toFixed(1)} MB at ${MAX_ENTRIES.toLocaleString('en')} sessions written, ${atEnd.heap.toFixed(1)} MB after ${TOTAL.toLocaleString('en')}`,
);
check(
  atEnd.rss <= atBound.rss * 1.25 + 10,
  `RSS stays bounded: ${atBound.rss.toFixed(1)} MB at the bound, ${atEnd.rss.toFixed(1)} MB at the end`,
);
console.log(`  about ${(((atEnd.heap - baseline.heap) * MB) / atEnd.size).toFixed(0)} bytes of heap per held session`);
check(
  (await adapter.get(firstSids[0]!)) === undefined,
  'the first sessions written were evicted (least recently written)',
);
check((await adapter.get(lastSid!)) !== undefined, 'the last session written is there');

// Phase 2 -----------------------------------------------------------------------------------
console.log('\nPhase 2: the clock jumps past the TTL');
clock += 24 * 60 * 60 * 1000 + 60_000;
const held = store.size;
const beforeSweep = row('  after the jump (nothing swept yet)', store);
check(
  (await adapter.get(lastSid!)) === undefined && store.size === held - 1,
  'an expired session is not served, and reading it drops its entry',
);
// Expired entries are not swept on a timer: the next sweep runs when a write finds the store full.
let writes = 0;
let previous = store.size;
for (;;) {
  writeSessions(adapter, 1);
  writes++;
  if (store.size < previous) break;
  previous = store.size;
}
const afterSweep = row(`  after ${writes.toLocaleString('en')} new write(s)`, store);
check(
  store.size === writes,
  `the sweep at the bound reclaimed every expired entry: ${(held - 1).toLocaleString('en')} expired held before, ${store.size.toLocaleString('en')} (all live) after`,
);
check(
  afterSweep.heap < beforeSweep.heap - (beforeSweep.heap - baseline.heap) / 2,
  `their heap is freed: ${beforeSweep.heap.toFixed(1)} MB before the sweep, ${afterSweep.heap.toFixed(1)} MB after`,
);
console.log('  (RSS falls only as far as V8 returns pages; it keeps some for reuse)');

// Phase 3 -----------------------------------------------------------------------------------
console.log(
  `\nPhase 3: ${PHASE3.toLocaleString('en')} sessions, TTL ${SHORT_TTL / 1000} s, one write per ms of clock: at most ${SHORT_TTL.toLocaleString('en')} alive at once`,
);
const store3 = new MemoryStore({ maxEntries: MAX_ENTRIES, now: () => clock });
const adapter3 = new StoreAdapter(store3, { prefix: 'koa:sess:', ttl: SHORT_TTL });
store.clear();
const live = writeSessions(
  adapter3,
  PHASE3,
  (done) => {
    if (done % (REPORT_EVERY * 2) === 0) row(`  ${done.toLocaleString('en')} sessions written`, store3);
  },
  SHORT_TTL - 1,
);
let found = 0;
for (const sid of live) if (store3.get(`koa:sess:${sid}`) !== undefined) found++;
check(
  found === live.length,
  `no live session was evicted: ${found.toLocaleString('en')} of the last ${live.length.toLocaleString('en')} found`,
);
check(store3.size <= MAX_ENTRIES, `the store holds ${store3.size.toLocaleString('en')} entries (≤ maxEntries)`);

const seconds = (Date.now() - started) / 1000;
console.log(
  `\n${failures.length === 0 ? 'all checks passed' : `${failures.length} check(s) failed`} in ${seconds.toFixed(1)} s`,
);
process.exit(failures.length === 0 ? 0 : 1);
