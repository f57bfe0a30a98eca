/**
 * One request's session: it feeds the session machine the request's events and has the effects
 * the machine asks for performed (session-effects.ts). It decides nothing about the lifecycle
 * itself; what it does own is the data: the session object, the sid, and the JSON the session had
 * when it was first exposed, from which "changed" is computed (an exact comparison of JSON, not a
 * hash that could collide).
 */
import type { Context } from 'koa';
import {
  type SaveMode,
  type SessionEffect,
  type SessionEvent,
  type SessionRunner,
  type SessionTag,
} from '../machines/session.machine.js';
import { isPlainObject } from '../stores/revive.js';
import { announceJson, takeReadJson } from '../stores/serialized.js';
import type { SessionLock, StoredSession } from '../stores/types.js';
import type { EffectTarget, MergedWrite, PreparedWrite } from './effect-target.js';
import { sessionTooLarge } from './errors.js';
import { mergeChanges } from './merge-changes.js';
import type { MiddlewareRuntime } from './runtime.js';
import { addSessionMethods, refuseOnDeferred } from './session-methods.js';
import { trace, traceRequest } from './trace.js';
import type { SidReading } from './sid-carrier.js';

/** The tag of the states in which `ctx.session` holds an object the app may change. */
const LIVE: SessionTag = 'live';
/** The tag of the state before the request starts its session. */
const UNSTARTED: SessionTag = 'unstarted';

export class RequestSession implements EffectTarget {
  readonly runner: SessionRunner;
  #sid: string | undefined;
  /** The session; `undefined` on a new session until first read (nothing to compare, nothing to build). */
  #data: StoredSession | null | undefined;
  /** The JSON of `data` when the app first saw it; `undefined` while the app has not seen it. */
  private baseline: string | undefined;
  /** `ctx.sessionSave`: force a save, skip every write, or let the machine decide. */
  #saveMode: SaveMode = 'auto';
  /** With `defer`: the load, and every change queued behind it, in order. */
  private ready: Promise<void> | undefined;
  /**
   * The error of the store call that failed last (for an error about the data, what the app's
   * `errorHandler` rethrew): what the machine's `throwStoreError` throws and `reportDegraded` reports.
   */
  private storeError: unknown;
  /** The error `throwStoreError` asked for, thrown once the machine is settled. */
  private pendingError: unknown;
  private committed = false;
  /** The session's lock while this request holds it (`concurrency: 'serialize'`). */
  #lock: SessionLock | undefined;
  /**
   * On a store with `compareAndSet`: the version of the entry this request read or last wrote,
   * which its next write expects to find (`null`: a new session, no entry); `undefined` otherwise.
   */
  #version: string | null | undefined = null;
  /** With `DEBUG=koa-session-machine`: the states this request went through (trace.ts). */
  private readonly trail: string[] | undefined;
  /** With the trace on: the request's last COMMIT or SAVE_NOW, which says why it ended where it did. */
  private committedWith: SessionEvent | undefined;

  constructor(
    readonly runtime: MiddlewareRuntime,
    readonly ctx: Context,
    readonly reading: SidReading,
  ) {
    this.runner = runtime.createRunner();
    this.#sid = reading.kind === 'present' ? reading.sid : undefined;
    this.trail = trace.enabled ? [] : undefined;
  }

  get sid(): string | undefined {
    return this.#sid;
  }

  /** `ctx.sessionId = sid`: the sid the session is stored and sent under from now on. */
  setSid(sid: string): void {
    this.#sid = sid;
    // A genSid still running is for a sid no longer wanted: its result must not replace this one.
    this.sidPromise = undefined;
  }

  get data(): StoredSession | null | undefined {
    return this.#data;
  }

  get version(): string | null | undefined {
    return this.#version;
  }

  get saveMode(): SaveMode {
    return this.#saveMode;
  }

  /** `ctx.sessionSave = …`: `'force'`, `'skip'`, or `'auto'` (the machine decides). */
  setSaveMode(mode: SaveMode): void {
    this.#saveMode = mode;
  }

  loaded(session: StoredSession, version: string | null | undefined): void {
    this.#data = session;
    this.#version = version;
  }

  holdLock(lock: SessionLock): void {
    this.#lock = lock;
  }

  takeLock(): SessionLock | undefined {
    const lock = this.#lock;
    this.#lock = undefined;
    return lock;
  }

  private record(event: SessionEvent): void {
    const state = this.runner.state;
    if (this.trail!.at(-1) !== state) this.trail!.push(state);
    if (event.type === 'COMMIT' || event.type === 'SAVE_NOW') this.committedWith = event;
  }

  /** With the trace on, its line for this request, once the request's session is settled. */
  traceEnd(): void {
    if (this.trail !== undefined) traceRequest(this.ctx, this.reading.kind, this.trail, this.committedWith);
  }

  /**
   * Feeds `event` to the machine and performs the effects it asks for, feeding back their results.
   * Synchronous as long as the store answers synchronously (the MemoryStore does), so that such a
   * request pays for no Promise; it returns a Promise from the first asynchronous store call on.
   */
  dispatch(event: SessionEvent | undefined): void | Promise<void> {
    let next: SessionEvent | Promise<SessionEvent | undefined> | undefined = event;
    const perform = this.runtime.effects;
    while (next !== undefined) {
      if (next instanceof Promise) return next.then((e) => this.dispatch(e));
      const effects = this.runner.send(next);
      if (this.trail !== undefined) this.record(next);
      next = undefined;
      for (const name of effects) {
        const result = perform[name as SessionEffect](this);
        if (result !== undefined) next = result;
      }
    }
    const err = this.pendingError;
    if (err !== undefined) {
      this.pendingError = undefined;
      throw err;
    }
  }

  load(): void | Promise<void> {
    return this.dispatch({ type: 'LOAD', sid: this.reading.kind });
  }

  /** With `defer`, runs `step` after the load and after every earlier step. */
  private queue(step?: () => void | Promise<void>): Promise<void> {
    const ready = (this.ready ??= Promise.resolve().then(() => this.load()));
    if (step === undefined) return ready;
    this.ready = ready.then(step);
    return this.ready;
  }

  /** With `defer`, the load and every step queued before this; without, nothing to wait for. */
  private afterQueuedSteps(): Promise<void> | undefined {
    return this.runtime.options.defer ? this.queue() : undefined;
  }

  /** The value of `ctx.session` (a Promise of it with `defer`). */
  read(): StoredSession | null | undefined | Promise<StoredSession | null | undefined> {
    if (this.runtime.options.defer) return refuseOnDeferred(this.queue().then(() => this.expose()));
    return this.expose();
  }

  /** The session object as the app sees it, building a new one and recording the baseline on first sight. */
  private expose(): StoredSession | null | undefined {
    if (!this.runner.hasTag(LIVE)) return this.#data;
    if (this.#data === undefined) {
      this.#data = this.runtime.newSession();
      this.baseline = this.runtime.emptyJson;
    } else if (this.baseline === undefined && this.#data !== null) {
      this.baseline = takeReadJson(this.#data) ?? JSON.stringify(this.#data);
    }
    const data = this.#data;
    if (data !== null && data !== this.withMethods) {
      addSessionMethods(data, this);
      this.withMethods = data;
    }
    return data;
  }
  /** The session object that was last given express-session's methods (session-methods.ts). */
  private withMethods: object | undefined;

  /** `ctx.session = value`. */
  write(value: unknown): void {
    if (value !== null && value !== undefined && !isPlainObject(value)) {
      throw new TypeError('koa-session-machine: ctx.session can only be set to a plain object or null');
    }
    const apply = () => {
      this.expose();
      if (value === null || value === undefined) {
        this.#data = null;
        return this.dispatch({ type: 'REMOVE' });
      }
      // A replaced session keeps the cookie options it needs to be read back (docs/migrating-from-koa-generic-session.md).
      if (!isPlainObject(value.cookie)) value.cookie = { ...this.runtime.options.cookie };
      this.#data = value as StoredSession;
      return this.dispatch({ type: 'REPLACE' });
    };
    // With `defer` the change waits for the load; commit awaits it and reports its error.
    if (this.runtime.options.defer) void this.queue(apply).catch(() => undefined);
    else void apply();
  }

  /** Resolves to the new session object, as koa-generic-session's `regenerateSession()` does. */
  async regenerate(): Promise<StoredSession | null | undefined> {
    await this.afterQueuedSteps();
    // The new session's sid is issued with it (`issueSid`): koa-generic-session users read
    // ctx.sessionId right after regenerating.
    await this.dispatch({ type: 'REGENERATE' });
    return this.expose();
  }

  async saveNow(): Promise<void> {
    await this.afterQueuedSteps();
    await this.dispatch({ type: 'SAVE_NOW', changed: this.changed(), save: this.#saveMode });
  }

  /** The end of the request: runs once, after the handlers, even when they threw. */
  commit(): void | Promise<void> {
    if (this.committed) return;
    this.committed = true;
    const dispatchCommit = () => this.dispatch({ type: 'COMMIT', changed: this.changed(), save: this.#saveMode });
    // With `defer`, a session never used is never loaded; a used one settles first, and a failed
    // load fails the request here.
    return this.ready === undefined ? dispatchCommit() : this.ready.then(dispatchCommit);
  }

  /** Whether the session differs from what the app first saw. Unseen sessions cannot have changed. */
  private changed(): boolean {
    this.decidedJson = undefined;
    if (this.baseline === undefined || this.#data === null || this.#data === undefined) return false;
    this.decidedJson = JSON.stringify(this.#data);
    return this.decidedJson !== this.baseline;
  }
  /** The JSON `changed()` compared, which the write that it may lead to reuses. */
  private decidedJson: string | undefined;

  /**
   * `ctx.sessionId`: the sid. Before the session is started (with `defer`, or until its first use)
   * it is the client's sid, or, without one, the sid the new session will get.
   */
  sessionId(): string | undefined {
    if (this.#sid === undefined && this.runner.hasTag(UNSTARTED)) {
      // No client sid: the load will start a new session, which keeps the sid handed out here.
      this.keepSid = true;
      return this.sidNow();
    }
    return this.#sid;
  }
  /** A sid read before the load (with `defer`) that the new session must keep. */
  private keepSid = false;

  /** The sid, generated now if there is none; `undefined` only while an async `genSid` is running. */
  sidNow(): string | undefined {
    if (this.#sid === undefined && this.sidPromise === undefined) {
      const sid = this.runtime.options.genSid.call(this.ctx, 24);
      if (typeof sid === 'string') this.#sid = sid;
      else {
        const pending: Promise<string> = Promise.resolve(sid).then((generated) => {
          if (this.sidPromise === pending) return (this.#sid = generated);
          // The sid was set, or a new session started, while the app's genSid ran: that one counts.
          return this.ensureSid();
        });
        this.sidPromise = pending;
      }
    }
    return this.#sid;
  }
  private sidPromise: Promise<string> | undefined;

  async ensureSid(): Promise<string> {
    const sid = this.sidNow();
    if (sid !== undefined) return sid;
    return this.sidPromise!;
  }

  /** A store call failed with `err`: the error the machine's `throwStoreError` and `reportDegraded` refer to. */
  failedWith(err: unknown): void {
    this.storeError = err;
  }

  /**
   * Hands an error about the data to the app's `errorHandler`: whether it swallowed it (returned).
   * What it throws instead is the error the request fails with.
   */
  errorHandlerSwallows(err: unknown, type: 'get' | 'set'): boolean {
    try {
      this.runtime.options.errorHandler(asError(err), type, this.ctx);
      return true;
    } catch (rethrown) {
      this.storeError = rethrown;
      return false;
    }
  }

  /** `throwStoreError`: the failed call's error is thrown once the machine is settled. */
  throwStoreError(): void {
    this.pendingError = this.storeError;
  }

  /** `reportDegraded`: the `onEvent` notice of a request that goes on without its session store. */
  reportDegraded(): void {
    const err = this.storeError as { cause?: unknown; message?: unknown } | undefined;
    this.runtime.options.onEvent?.({ type: 'degraded', ctx: this.ctx, reason: String(err?.cause ?? err?.message) });
  }

  /** The session as it is written: `beforeSave` runs, the size limit is checked. */
  prepareWrite(): PreparedWrite {
    // A new session saved without having been read (allowEmpty, sessionSave = true) is built now.
    this.#data ??= this.runtime.newSession();
    const session = this.#data;
    const { beforeSave } = this.runtime.options;
    beforeSave?.(this.ctx, session);
    const stamped = this.stampLifetime(session);
    // The write follows the decision at once; only `beforeSave` (or the lifetime's start) can have
    // changed the session since.
    const json = (beforeSave === undefined && !stamped ? this.decidedJson : undefined) ?? JSON.stringify(session);
    this.decidedJson = undefined;
    this.checkSize(json);
    announceJson(session, json);
    return { session, json };
  }

  /**
   * The session to write after a fenced write met a newer entry: that entry with this request's
   * changes applied (merge-changes.ts), in place, so that `ctx.session` holds what is written.
   */
  mergeInto(newer: StoredSession): MergedWrite {
    const session = this.#data!;
    const alreadyStored = mergeChanges(
      this.baseline ?? takeReadJson(session) ?? JSON.stringify(session),
      session,
      newer,
    );
    const json = JSON.stringify(session);
    this.checkSize(json);
    announceJson(session, json);
    return { session, json, alreadyStored };
  }

  private checkSize(json: string): void {
    const max = this.runtime.options.maxSize;
    // A string's length in UTF-16 units bounds its UTF-8 size from below and its third from above.
    if (json.length > max / 3) {
      const bytes = Buffer.byteLength(json);
      if (bytes > max) throw sessionTooLarge(bytes, max);
    }
  }

  written(json: string, version: string | null | undefined): void {
    this.#version = version;
    this.baseline = json;
  }

  /**
   * With `maxLifetime`: when the session began (ms since the epoch), as stored in its
   * `cookie.createdAt`; `undefined` for a session not stored yet, whose lifetime begins with its
   * first write. A new session after `regenerateSession()` (a login) begins a new lifetime.
   */
  private createdAt: number | undefined;

  /**
   * With `maxLifetime`, what a loaded session's lifetime says: whether it is older than that, and
   * whether it never said when it began (stored before `maxLifetime` was on), in which case it
   * begins now and the machine has it stored.
   */
  lifetimeOf(session: StoredSession): { expired: boolean; lifetimeUnstamped: boolean } {
    const max = this.runtime.options.maxLifetime;
    if (max === undefined) return NO_LIFETIME;
    const stored = session.cookie?.createdAt;
    const stamped = typeof stored === 'number' && Number.isFinite(stored);
    const createdAt = (this.createdAt = stamped ? stored : Date.now());
    return { expired: createdAt + max <= Date.now(), lifetimeUnstamped: !stamped };
  }

  /** With `maxLifetime`, writes when the lifetime began into the session's cookie; whether that changed it. */
  private stampLifetime(session: StoredSession): boolean {
    if (this.runtime.options.maxLifetime === undefined) return false;
    const createdAt = (this.createdAt ??= Date.now());
    if (!isPlainObject(session.cookie)) session.cookie = { ...this.runtime.options.cookie };
    if (session.cookie.createdAt === createdAt) return false;
    session.cookie.createdAt = createdAt;
    return true;
  }

  /** A new sid (generated when first needed) and an empty session (built when first read). */
  startNew(): void {
    if (this.keepSid) this.keepSid = false;
    else {
      this.#sid = undefined;
      this.sidPromise = undefined;
    }
    this.#data = undefined;
    this.baseline = undefined;
    this.createdAt = undefined;
    this.#version = null;
  }
}

const NO_LIFETIME = Object.freeze({ expired: false, lifetimeUnstamped: false });

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
