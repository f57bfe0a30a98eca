/**
 * What a lifecycle path implies a user can observe, derived from the effects of its steps: the
 * session cookie, what the store holds under each sid, the store calls, the `onEvent` notices and
 * the response status. lifecycle.ts drives the path and compares what it observes with this.
 */
import type { SessionEvent } from '../machines/session.machine.js';
import type { SetCookie } from './http.js';
import type { ResolvedCapabilities, StoreMethod } from './instrumented.js';
import type { LifecyclePath, LifecycleStep } from './session-paths.js';

/** The session cookie's name in the kit's app (the middleware's default). */
export const KEY = 'koa.sid';

export type CookieState = { kind: 'none' } | { kind: 'reset' } | { kind: 'sent'; sid: string };
export type UserData = Record<string, unknown>;

/** The session's own fields: everything but `cookie`, as JSON would give them back. */
export function userData(session: unknown): UserData | undefined {
  if (session === null || typeof session !== 'object') return undefined;
  const { cookie: _cookie, ...rest } = JSON.parse(JSON.stringify(session)) as UserData;
  return rest;
}

export function cookieState(setCookies: readonly SetCookie[]): CookieState {
  const last = setCookies.filter((c) => c.name === KEY).at(-1);
  if (last === undefined) return { kind: 'none' };
  if (last.expired || last.value === '') return { kind: 'reset' };
  return { kind: 'sent', sid: last.value };
}

export function describeCookie(state: CookieState): string {
  return state.kind === 'sent' ? `sent with sid ${state.sid}` : state.kind;
}

/** A store call: the method, and whether its key is the session's or its retired sid's tombstone. */
interface Call {
  method: StoreMethod;
  key: 'session' | 'tombstone';
}

const onSession = (...methods: StoreMethod[]): Call[] => methods.map((method) => ({ method, key: 'session' }));

/**
 * The store calls an effect makes, given the declared capabilities and the result event that
 * follows it. A store without `update` (or `touch`) is read first, and rewritten with `set` only
 * when the entry is still there. Retiring a sid writes its tombstone and destroys its entry, both
 * issued at once (the tombstone first, so that no request finds neither).
 */
function callsOf(effect: string, supports: ResolvedCapabilities, result: LifecycleStep | undefined): Call[] {
  const readThenSet = (): Call[] => {
    const stored = result !== undefined && 'stored' in result.event ? result.event.stored : true;
    return stored ? onSession('get', 'set') : onSession('get');
  };
  // A store with compareAndSet is read with its versions, and every write of a session is one.
  const fenced = supports.compareAndSet;
  switch (effect) {
    case 'acquireLock':
      return onSession('lock');
    case 'readStore':
      return onSession(fenced ? 'getVersioned' : 'get');
    case 'readTombstone':
      return [{ method: 'get', key: 'tombstone' }];
    case 'createInStore':
      return onSession(fenced ? 'compareAndSet' : 'set');
    case 'updateInStore':
      return fenced ? onSession('compareAndSet') : supports.update ? onSession('update') : readThenSet();
    case 'touchInStore':
      return supports.touch ? onSession('touch') : fenced ? onSession('compareAndSet') : readThenSet();
    case 'destroyInStore':
      return onSession('destroy');
    case 'retireInStore':
      return [{ method: 'set', key: 'tombstone' }, ...onSession('destroy')];
    default:
      return [];
  }
}

/**
 * The store method that is made to fail so that `effects` end in `failure`: the delete for a failed
 * delete (a retire's tombstone is written all the same), otherwise the last call of the effect (a
 * store without `update` fails in the `set` after its read).
 */
export function failingMethod(
  effects: readonly string[],
  failure: string,
  supports: ResolvedCapabilities,
): StoreMethod {
  if (failure === 'DESTROY_FAILED') return 'destroy';
  for (const effect of effects) {
    const call = callsOf(effect, supports, undefined).at(-1);
    if (call !== undefined) return call.method;
  }
  throw new Error(`koa-session-machine/testing: no store call to make fail among ${effects.join(', ')}`);
}

/** The notices the machine's reporting effects send through `onEvent`. */
const NOTICES: Readonly<Record<string, string>> = {
  reportLifetimeEnded: 'expired',
  reportLateChangeDropped: 'late',
  reportDegraded: 'degraded',
};

/** What the world should look like, updated from the effects of the path's steps. */
export class Expected {
  cookie: CookieState = { kind: 'none' };
  /** What the store holds under each sid the request used: its user data, or `null` for nothing. */
  readonly store = new Map<string, UserData | null>();
  readonly calls: string[] = [];
  /** The `onEvent` notices of the request, by type. */
  readonly notices: string[] = [];
  lockHeld = false;

  constructor(
    private readonly supports: ResolvedCapabilities,
    private readonly prefix: string,
  ) {}

  /**
   * Applies the effects of `steps`. `sid` is the sid before the steps, `sidAfter` the one after
   * (they differ when a step starts a new session); `data` is the session as the handler left it.
   */
  apply(
    steps: readonly LifecycleStep[],
    all: readonly LifecycleStep[],
    sid: string | undefined,
    sidAfter: string | undefined,
    data: UserData | undefined,
  ): void {
    let current = sid;
    for (const step of steps) {
      const next = all[all.indexOf(step) + 1];
      for (const effect of step.effects) {
        for (const { method, key } of callsOf(effect, this.supports, next)) {
          this.calls.push(`${method} ${this.prefix}${key === 'tombstone' ? 'retired:' : ''}${current}`);
        }
        const notice = NOTICES[effect];
        if (notice !== undefined) this.notices.push(notice);
        switch (effect) {
          case 'createInStore':
          case 'updateInStore':
            if (next?.event.type === 'WRITTEN' && next.event.stored) this.store.set(current!, data ?? {});
            break;
          case 'touchInStore':
            // Stores without touch() get the unchanged session rewritten: the same data.
            if (next?.event.type === 'TOUCHED' && next.event.stored && !this.supports.touch)
              this.store.set(current!, data ?? {});
            break;
          case 'destroyInStore':
          case 'retireInStore':
            if (next?.event.type === 'DESTROYED') this.store.set(current!, null);
            break;
          case 'sendCookie':
            this.cookie = { kind: 'sent', sid: current! };
            break;
          case 'resetCookie':
            this.cookie = { kind: 'reset' };
            break;
          case 'startNewSession':
            current = sidAfter;
            break;
        }
      }
      if (step.event.type === 'LOCKED') this.lockHeld = true;
    }
  }
}

/**
 * What a path expects of the response status: a request whose session failed fails too, with a 503
 * when the store was unavailable and otherwise with the store's error; every other one is a 200
 * (`unsaved` included: the app's `errorHandler` let the request go on without its session saved).
 */
export function expectedStatus(path: LifecyclePath): number {
  const last = path.steps.at(-1)!;
  if (last.state !== 'failed') return 200;
  return isOutage(last.event) ? 503 : 500;
}

/** Whether a failure event is an outage of the store (a 503 when it fails the request). */
export function isOutage(event: SessionEvent): boolean {
  return event.type === 'STORE_UNAVAILABLE' || ('outage' in event && event.outage);
}

/** Whether the app's `errorHandler` sees the error of `event` (as `'get'` or `'set'`): an error about the data. */
export function handledByApp(event: SessionEvent): boolean {
  return (
    event.type === 'LOAD_FAILED' || ((event.type === 'WRITE_FAILED' || event.type === 'TOUCH_FAILED') && !event.outage)
  );
}
