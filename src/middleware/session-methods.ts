/**
 * express-session's methods on the session object: `session.regenerate(cb?)` and
 * `session.save(cb?)`. Passport ≥ 0.6 (through koa-passport, which maps `req.session` to
 * `ctx.session`) calls `regenerate` at login, to issue a new sid (the session fixation defence),
 * and `save` then `regenerate` at logout. They do what `ctx.regenerateSession()` and
 * `ctx.saveSession()` do; with a callback they call it (with the error, if one happened), without
 * one they return a Promise.
 *
 * They are invisible as data: non-enumerable accessors, so `JSON.stringify`, `Object.keys` and the
 * `for … in` copy passport's `keepSessionInfo` makes never see them, and the change check never
 * counts them. A session whose data has its own `save` or `regenerate` key keeps it: the data wins,
 * and an app that assigns such a key makes it ordinary data (the accessor's setter does that).
 */
type Callback = (err?: unknown) => void;

/** What the methods act on: the request's session (request-session.ts). */
export interface SessionMethodsOwner {
  regenerate(): Promise<unknown>;
  saveNow(): Promise<void>;
}

const OWNER = Symbol('koa-session-machine.session-owner');
type Decorated = Record<PropertyKey, unknown> & { [OWNER]?: SessionMethodsOwner };

function promiseOrCallback(done: Promise<unknown>, cb: unknown): Promise<void> | undefined {
  const finished = done.then(() => undefined);
  if (typeof cb !== 'function') return finished;
  finished.then(
    () => (cb as Callback)(),
    (err: unknown) => (cb as Callback)(err),
  );
  return undefined;
}

function ownerOf(session: Decorated): SessionMethodsOwner {
  const owner = session[OWNER];
  if (owner === undefined)
    throw new TypeError('koa-session-machine: session.regenerate() and session.save() must be called on ctx.session');
  return owner;
}

function regenerate(this: Decorated, cb?: Callback): Promise<void> | undefined {
  return promiseOrCallback(ownerOf(this).regenerate(), cb);
}

function save(this: Decorated, cb?: Callback): Promise<void> | undefined {
  return promiseOrCallback(ownerOf(this).saveNow(), cb);
}

/** An accessor that answers `method`, and turns into plain data when the app assigns the name. */
function methodProperty(name: string, method: unknown): PropertyDescriptor {
  return {
    configurable: true,
    enumerable: false,
    get: () => method,
    set(this: object, value: unknown) {
      Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
    },
  };
}

const REGENERATE = methodProperty('regenerate', regenerate);
const SAVE = methodProperty('save', save);

/** Whether `name` may carry the method: absent, or a method of an earlier request (a by-reference store). */
function free(session: object, name: string, ours: PropertyDescriptor): boolean {
  if (!Object.hasOwn(session, name)) return true;
  return Object.getOwnPropertyDescriptor(session, name)?.get === ours.get;
}

/**
 * Gives `session` the methods, acting on `owner`. One `defineProperty` per property: every session
 * a request exposes gets them, and a `defineProperties` with a map of descriptors costs about
 * twice as much.
 */
export function addSessionMethods(session: object, owner: SessionMethodsOwner): void {
  Object.defineProperty(session, OWNER, { value: owner, configurable: true, writable: true });
  if (free(session, 'regenerate', REGENERATE)) Object.defineProperty(session, 'regenerate', REGENERATE);
  if (free(session, 'save', SAVE)) Object.defineProperty(session, 'save', SAVE);
}

/**
 * With `defer: true`, `ctx.session` is a Promise: express-session's API is not there. Passport
 * calling `req.session.regenerate(cb)` then gets this clear error instead of a TypeError.
 */
function deferred(name: string) {
  return (cb?: Callback) => {
    const err = new TypeError(
      `koa-session-machine: with defer: true, ctx.session is a Promise, so session.${name}() (used by passport) ` +
        'is not available; use defer: false with passport, or await ctx.session first',
    );
    if (typeof cb === 'function') {
      queueMicrotask(() => cb(err));
      return undefined;
    }
    return Promise.reject(err);
  };
}

const DEFERRED: PropertyDescriptorMap = {
  regenerate: { value: deferred('regenerate'), configurable: true },
  save: { value: deferred('save'), configurable: true },
};

/** Gives the Promise of a deferred session the methods' names, answering with a clear error. */
export function refuseOnDeferred<T>(promise: Promise<T>): Promise<T> {
  return Object.defineProperties(promise, DEFERRED);
}
