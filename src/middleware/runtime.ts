/**
 * The middleware's runtime: what one `session(options)` call sets up once and every request of it
 * shares: the resolved options, the store behind its adapter, the sid carrier, the machine's
 * effects, and the way its session machine runs (the compiled table, or a real XState actor when
 * the app inspects transitions).
 */
import { sessionRunnerFactory } from '../machines/session-runner.js';
import { startsOnFirstUse, type SessionRunner, type SidKind } from '../machines/session.machine.js';
import { directAccess, OwnerIndex, type SessionAccess } from '../sessions/owner-index.js';
import { StoreAdapter } from '../stores/adapter.js';
import type { StoredSession } from '../stores/types.js';
import { defaultGenSid, type ResolvedOptions } from './options.js';
import { StoreConnection } from './connection.js';
import { createSessionEffects, type SessionEffects } from './session-effects.js';
import { cookieCarrier, customCarrier, type SidCarrier } from './sid-carrier.js';

export class MiddlewareRuntime {
  readonly store: StoreAdapter;
  readonly carrier: SidCarrier;
  /** Only for stores that report their connection (they have `on`). */
  readonly connection: StoreConnection | undefined;
  /** With the `owner` option: the index of sessions per owner, which the store effects keep in step. */
  readonly index: OwnerIndex | undefined;
  /** How the store effects read and write sessions: through the index when there is one. */
  readonly sessions: SessionAccess;
  readonly createRunner: () => SessionRunner;
  /** The machine's effects, performed on each request's session. */
  readonly effects: SessionEffects;
  /**
   * For each kind of client sid, whether a request may start its run of the machine when its
   * session is first used rather than before the handlers (asked of the machine).
   */
  readonly startsOnFirstUse: Readonly<Record<SidKind, boolean>>;
  /** The JSON of a new, empty session: the baseline against which a new session is "changed". */
  readonly emptyJson: string;

  constructor(readonly options: ResolvedOptions) {
    const { prefix, ttl, hashIds, seal, maxLifetime, tombstoneTtl } = options;
    this.store = new StoreAdapter(options.store, { prefix, ttl, hashIds, seal, maxLifetime, tombstoneTtl });
    this.index = options.owner ? new OwnerIndex(this.store, options) : undefined;
    this.sessions = this.index ?? directAccess(this.store);
    this.carrier = options.sessionIdStore
      ? customCarrier(options.sessionIdStore)
      : cookieCarrier(options.key, options.cookie);
    const { onEvent, store, reconnectTimeout, inspect } = options;
    this.connection =
      typeof store.on === 'function'
        ? new StoreConnection(store, reconnectTimeout, (state) => onEvent?.({ type: 'connection', state }), inspect)
        : undefined;
    if (options.concurrency === 'serialize' && !this.store.canLock) {
      throw new TypeError(
        "koa-session-machine: concurrency: 'serialize' needs a store with a lock() method " +
          '(MemoryStore and RedisStore have one); this store cannot serialize requests',
      );
    }
    const input = {
      rolling: options.rolling,
      allowEmpty: options.allowEmpty,
      serialize: options.concurrency === 'serialize',
      degradeOnOutage: options.storeOutage === 'degrade',
    };
    this.createRunner = sessionRunnerFactory(input, options.inspect);
    this.effects = createSessionEffects(this);
    this.emptyJson = JSON.stringify(this.newSession());
    // Runs made only to ask the machine, never inspected: the app's `inspect` sees requests only.
    const ask = sessionRunnerFactory(input);
    const appGeneratesSid = options.genSid !== defaultGenSid;
    this.startsOnFirstUse = {
      absent: startsOnFirstUse(ask(), 'absent', appGeneratesSid),
      present: startsOnFirstUse(ask(), 'present', appGeneratesSid),
      forged: startsOnFirstUse(ask(), 'forged', appGeneratesSid),
    };
  }

  /**
   * A new session: no data, and a copy of the cookie options (stores read `cookie.maxAge`), a
   * configured `expires` Date included, so that a handler changing its session's date in place
   * changes neither the configuration nor other sessions.
   */
  newSession(): StoredSession {
    const cookie = { ...this.options.cookie };
    if (cookie.expires instanceof Date) cookie.expires = new Date(cookie.expires.getTime());
    return { cookie };
  }

  /** The session API exists only under `cookie.path`, as with koa-generic-session. */
  matches(path: string): boolean {
    const cookiePath = this.options.cookie.path ?? '/';
    return cookiePath === '/' || path.startsWith(cookiePath);
  }
}
