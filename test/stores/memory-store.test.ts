/**
 * The embedded MemoryStore (SPEC §5.7, §7): expiry at the TTL, a bounded size, copies in and out,
 * update() and touch() as capabilities, Dates revived. A fake clock drives expiry: no sleeping.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore, type StoredSession } from '../../src/index.js';

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => void (now += ms),
  };
}

const sess = (fields: Record<string, unknown> = {}): StoredSession => ({ cookie: { path: '/' }, ...fields });

describe('MemoryStore', () => {
  it('stores and returns sessions; a missing key gives undefined; destroy and clear remove', () => {
    const store = new MemoryStore();
    expect(store.get('nope')).toBeUndefined();
    store.set('a', sess({ n: 1 }), 1000);
    store.set('b', sess({ n: 2 }));
    expect(store.get('a')).toEqual(sess({ n: 1 }));
    expect(store.size).toBe(2);
    store.destroy('a');
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')).toEqual(sess({ n: 2 }));
    store.clear();
    expect(store.size).toBe(0);
    expect(store.get('b')).toBeUndefined();
  });

  describe('expiry', () => {
    it('keeps an entry until its TTL and drops it at the TTL', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('k', sess({ n: 1 }), 1000);
      c.advance(999);
      expect(store.get('k')).toEqual(sess({ n: 1 }));
      c.advance(1);
      expect(store.get('k')).toBeUndefined();
      expect(store.size).toBe(0);
    });

    it('an entry without a TTL does not expire', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('k', sess(), undefined);
      c.advance(10 * 365 * 24 * 3600 * 1000);
      expect(store.get('k')).toEqual(sess());
    });

    it('a rewrite sets a new expiry', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('k', sess({ v: 1 }), 1000);
      c.advance(800);
      store.set('k', sess({ v: 2 }), 1000);
      c.advance(800);
      expect(store.get('k')).toEqual(sess({ v: 2 }));
      c.advance(200);
      expect(store.get('k')).toBeUndefined();
    });
  });

  describe('size bound', () => {
    it('evicts the least recently written entry when full', () => {
      const store = new MemoryStore({ maxEntries: 3 });
      store.set('a', sess());
      store.set('b', sess());
      store.set('c', sess());
      store.get('a'); // reading does not make an entry recent: the order is by write
      store.set('d', sess());
      expect(store.size).toBeLessThanOrEqual(3);
      expect(store.get('a')).toBeUndefined();
      expect(['b', 'c', 'd'].map((k) => store.get(k) !== undefined)).toEqual([true, true, true]);
    });

    it('a rewrite makes an entry the most recently written', () => {
      const store = new MemoryStore({ maxEntries: 3 });
      store.set('a', sess());
      store.set('b', sess());
      store.set('c', sess());
      store.set('a', sess({ again: true }));
      store.set('d', sess());
      expect(store.get('b')).toBeUndefined();
      expect(store.get('a')).toEqual(sess({ again: true }));
      expect(store.get('d')).toBeDefined();
    });

    it('sweeps expired entries before evicting live ones', () => {
      const c = clock();
      const store = new MemoryStore({ maxEntries: 3, now: c.now });
      store.set('short', sess(), 100);
      store.set('b', sess());
      store.set('c', sess());
      c.advance(100);
      store.set('d', sess());
      expect(['b', 'c', 'd'].map((k) => store.get(k) !== undefined)).toEqual([true, true, true]);
      expect(store.size).toBe(3);
    });

    it('never holds more than maxEntries, and always the most recent writes', () => {
      const store = new MemoryStore({ maxEntries: 10 });
      for (let i = 0; i < 1000; i++) {
        store.set(`k${i}`, sess({ i }));
        expect(store.size).toBeLessThanOrEqual(10);
      }
      for (let i = 990; i < 1000; i++) expect(store.get(`k${i}`)).toEqual(sess({ i }));
      expect(store.get('k0')).toBeUndefined();
      expect(store.get('k989')).toBeUndefined();
    });

    it('refuses a maxEntries that is not a positive integer', () => {
      for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
        expect(() => new MemoryStore({ maxEntries })).toThrow(TypeError);
      }
      expect(new MemoryStore().maxEntries).toBe(100_000);
    });
  });

  describe('copies', () => {
    it('a change to the object passed to set() does not reach the store', () => {
      const store = new MemoryStore();
      const s = sess({ user: { name: 'ann' }, list: [1] });
      store.set('k', s);
      (s.user as { name: string }).name = 'mallory';
      (s.list as number[]).push(2);
      s.extra = true;
      expect(store.get('k')).toEqual(sess({ user: { name: 'ann' }, list: [1] }));
    });

    it('a change to what get() returned does not reach the store', () => {
      const store = new MemoryStore();
      store.set('k', sess({ user: { name: 'ann' } }));
      const first = store.get('k')!;
      (first.user as { name: string }).name = 'mallory';
      first.cookie.path = '/evil';
      const second = store.get('k')!;
      expect(second).not.toBe(first);
      expect(second).toEqual(sess({ user: { name: 'ann' } }));
    });
  });

  describe('update()', () => {
    it('writes only a key that exists, and says whether it did', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      expect(store.update('missing', sess({ v: 1 }), 1000)).toBe(false);
      expect(store.get('missing')).toBeUndefined();
      expect(store.size).toBe(0);

      store.set('k', sess({ v: 1 }), 1000);
      c.advance(900);
      expect(store.update('k', sess({ v: 2 }), 1000)).toBe(true);
      expect(store.get('k')).toEqual(sess({ v: 2 }));
      c.advance(900); // the update set a new expiry
      expect(store.get('k')).toEqual(sess({ v: 2 }));
    });

    it('does not bring back an expired or destroyed entry', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('expired', sess(), 100);
      store.set('destroyed', sess());
      store.destroy('destroyed');
      c.advance(100);
      expect(store.update('expired', sess({ back: true }), 1000)).toBe(false);
      expect(store.update('destroyed', sess({ back: true }), 1000)).toBe(false);
      expect(store.get('expired')).toBeUndefined();
      expect(store.get('destroyed')).toBeUndefined();
    });
  });

  describe('touch()', () => {
    it('refreshes the expiry of an existing key without changing its value', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      store.set('k', sess({ v: 1 }), 1000);
      c.advance(900);
      expect(store.touch('k', 1000)).toBe(true);
      c.advance(900);
      expect(store.get('k')).toEqual(sess({ v: 1 }));
      c.advance(100);
      expect(store.get('k')).toBeUndefined();
    });

    it('returns false for a missing or expired key and creates nothing', () => {
      const c = clock();
      const store = new MemoryStore({ now: c.now });
      expect(store.touch('missing', 1000)).toBe(false);
      store.set('k', sess(), 100);
      c.advance(100);
      expect(store.touch('k', 1000)).toBe(false);
      expect(store.get('k')).toBeUndefined();
      expect(store.size).toBe(0);
    });
  });

  it('gives cookie.expires back as a Date', () => {
    const store = new MemoryStore();
    const expires = new Date('2031-02-03T04:05:06.789Z');
    store.set('k', { cookie: { path: '/', expires, maxAge: 1000 }, n: 1 });
    const got = store.get('k')!;
    expect(got.cookie.expires).toBeInstanceOf(Date);
    expect(got.cookie.expires!.getTime()).toBe(expires.getTime());
    expect(got.cookie.maxAge).toBe(1000);
  });
});
