/**
 * How the kit arranges the author's store for a lifecycle path, before the request or before the
 * handler's step whose store call is to end a given way: a session an earlier request saved (and
 * the same browser's logout of it), a session older than the app's `maxLifetime`, an entry gone
 * without a logout, the session's lock held by someone else, and the one store call that fails.
 * What the kit writes or destroys goes to the store itself, not through the instrumented wrapper the
 * middleware gets, so that none of it is among the store calls the kit checks, and what the store
 * holds afterwards is recorded in the path's `Expected`; a failing call is planned in the wrapper.
 */
import assert from 'node:assert/strict';
import type Koa from 'koa';
import session, { type SessionStore, type StoredSession } from '../index.js';
import { cookieState, failingMethod, KEY, userData, type Expected, type UserData } from './expected-outcome.js';
import { listen, request } from './http.js';
import type { InstrumentedStore, ResolvedCapabilities } from './instrumented.js';
import type { LifecycleStep } from './session-paths.js';

/** The app's signing keys: the kit's app and the earlier request's app sign cookies alike. */
export const KEYS = ['conformance-kit-key', 'conformance-kit-old-key'];
/** The short `storeTimeout` / `lockTimeout` of the paths where the store is made unavailable. */
export const SHORT_TIMEOUT = 20;
/** The `maxLifetime` of the paths where a session outlived it (long enough for any new session). */
export const MAX_LIFETIME = 60 * 60 * 1000;
/** The TTL of the session the kit rewrites with an old `cookie.createdAt` (the middleware's default). */
const SEEDED_TTL = 24 * 60 * 60 * 1000;
/** The session an earlier request saved: what the handler gets when the path loads it. */
export const SEEDED: Readonly<UserData> = { seeded: 1 };

/** A session an earlier request saved, and the cookie its browser holds. */
interface Seeded {
  sid: string;
  /** The `Cookie` header that sends it back. */
  cookie: string;
  /** What the store held once it was saved. */
  stored: StoredSession;
  /** The earlier request's app, where the same browser can log out (`/logout`). */
  url: string;
}

/** A `Cookie` header with the session cookie and its signature. */
function cookieHeader(value: string, sig: string): string {
  return `${KEY}=${value}; ${KEY}.sig=${sig}`;
}

/** Arranges the store of one path: one per path, with the path's `Expected`. */
export class StoreFaults {
  private readonly raw: Record<string, any>;
  private seeded: Seeded | undefined;

  constructor(
    private readonly instrumented: InstrumentedStore,
    private readonly expected: Expected,
    private readonly options: {
      prefix: string;
      supports: ResolvedCapabilities;
      Koa: new () => Koa;
      /** Where to leave what undoes an arrangement after the path (servers, a held lock). */
      cleanup: (() => unknown)[];
      /** A sid the kit makes up (from the seed). */
      sid: () => string;
    },
  ) {
    this.raw = instrumented.raw as unknown as Record<string, any>;
  }

  private key(sid: string): string {
    return this.options.prefix + sid;
  }

  /**
   * An earlier request saves a session: a separate app on the same store, with default options and
   * the plain contract, so that nothing of the request under test happens during it.
   */
  async seedSession(): Promise<Seeded> {
    const { instrumented, raw } = this;
    const seeder = new this.options.Koa();
    seeder.keys = KEYS;
    seeder.silent = true;
    const seederStore: SessionStore = {
      get: (k) => raw.get(k),
      set: (k, v, t) => {
        instrumented.written.add(k);
        return raw.set(k, v, t);
      },
      destroy: (k) => raw.destroy(k),
    };
    seeder.use(session({ store: seederStore, prefix: this.options.prefix }));
    seeder.use((ctx) => {
      if (ctx.path.endsWith('/logout')) ctx.session = null;
      else Object.assign(ctx.session!, SEEDED);
      ctx.body = 'seeded';
    });
    const server = await listen(seeder);
    this.options.cleanup.push(() => server.close());
    const reply = await request(server.url);
    assert.equal(reply.status, 200, `seeding a session answered ${reply.status}: ${reply.text}`);
    const value = reply.setCookies.find((c) => c.name === KEY)?.value;
    const sig = reply.setCookies.find((c) => c.name === `${KEY}.sig`)?.value;
    assert.ok(value && sig, 'seeding a session sent no session cookie');
    const stored = (await raw.get(this.key(value))) as StoredSession | undefined;
    assert.deepEqual(userData(stored), SEEDED, 'setup: the seeded session is in the store');
    this.expected.store.set(value, SEEDED);
    this.seeded = { sid: value, cookie: cookieHeader(value, sig), stored: stored!, url: server.url };
    return this.seeded;
  }

  /** A sid the client made up, with a bad signature: never looked up, never adopted. */
  forgeCookie(): { cookie: string } {
    const forged = this.options.sid();
    this.expected.store.set(forged, null);
    return { cookie: cookieHeader(forged, 'forged-signature') };
  }

  /** The seeded session was created before the lifetime the app allows (`MAX_LIFETIME`). */
  async ageSeededSession(): Promise<void> {
    const { sid, stored } = this.seededSession();
    const old = { ...stored, cookie: { ...stored.cookie, createdAt: Date.now() - 2 * MAX_LIFETIME } };
    await this.raw.set(this.key(sid), old, SEEDED_TTL);
  }

  /**
   * The browser logs out of the seeded session meanwhile (the earlier app retires its sid): the
   * request under test left with the sid before that.
   */
  async logOutOfSeededSession(): Promise<void> {
    const { url, cookie, sid } = this.seededSession();
    const out = await request(`${url}/logout`, cookie);
    assert.equal(out.status, 200, `logging out answered ${out.status}: ${out.text}`);
    assert.ok(cookieState(out.setCookies).kind === 'reset', 'setup: logging out expired the session cookie');
    this.expected.store.set(sid, null);
  }

  /** The entry goes without a logout (it expired, it was lost, another request destroyed it): no tombstone. */
  async destroyEntry(sid: string): Promise<void> {
    await this.raw.destroy(this.key(sid));
    this.expected.store.set(sid, null);
  }

  /** Checks that an arrangement left nothing under `sid`. */
  async assertGone(sid: string): Promise<void> {
    assert.ok(!(await this.raw.get(this.key(sid))), 'setup: the session is gone from the store');
  }

  /** Someone else holds the session's lock until the path is over. */
  async holdLock(sid: string): Promise<void> {
    const held = await this.raw.lock(this.key(sid), { lease: 10_000, wait: 5_000 });
    assert.ok(held, 'the kit could not take the session lock to make it unavailable');
    this.options.cleanup.push(() => held.release());
  }

  /** The store call that `step`'s effects make throws, so that they end in `failure`. */
  failCallOf(step: LifecycleStep, failure: string): void {
    this.instrumented.fail(failingMethod(step.effects, failure, this.options.supports), 'throw');
  }

  /** The store call that `step`'s effects make last never answers (an outage). */
  hangCallOf(step: LifecycleStep): void {
    this.instrumented.fail(failingMethod(step.effects, 'outage', this.options.supports), 'hang');
  }

  /**
   * The entry of `sid` goes without a logout (so the store has no session for it), and the read of
   * its tombstone then throws.
   */
  async failTombstoneRead(sid: string): Promise<void> {
    await this.destroyEntry(sid);
    this.instrumented.fail('get', 'throw', `${this.options.prefix}retired:${sid}`);
  }

  private seededSession(): Seeded {
    assert.ok(this.seeded, 'koa-session-machine/testing: the path changes a session no earlier request saved');
    return this.seeded;
  }
}
