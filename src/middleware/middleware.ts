/**
 * The Koa middleware: reads the sid, starts the request's session, runs the handlers, commits.
 * Committing happens after a downstream error too, and the first error is the one that propagates
 * (docs/lifecycle.md, End of the request). A second instance on the same request leaves the first in charge.
 */
import type { Context, Middleware, Next } from 'koa';
import { installContextApi, SESSION, START_ON_FIRST_USE, takeForcedSid } from './context-api.js';
import { resolveOptions, type SessionOptions } from './options.js';
import { RequestSession } from './request-session.js';
import { MiddlewareRuntime } from './runtime.js';
import { ownerSessions } from '../sessions/owner-sessions.js';
import type { OwnerSessions } from '../sessions/types.js';
import type { SidReading } from './sid-carrier.js';
import { trace, traceUnused } from './trace.js';

type SessionContext = Context & { [SESSION]?: RequestSession; [START_ON_FIRST_USE]?: (ctx: Context) => RequestSession };

const ABSENT: SidReading = Object.freeze({ kind: 'absent' });

/** The commit of a session the request used; a request that never used one that starts on first use has none. */
function commit(ctx: SessionContext): void | Promise<void> {
  const s = ctx[SESSION];
  if (!trace.enabled) return s?.commit();
  if (s === undefined) return traceUnused(ctx);
  return tracedCommit(s);
}

/** With `DEBUG=koa-session-machine`: the commit, then the request's trace line, whatever the outcome. */
function tracedCommit(s: RequestSession): void | Promise<void> {
  let done: void | Promise<void>;
  try {
    done = s.commit();
  } catch (err) {
    s.traceEnd();
    throw err;
  }
  if (done instanceof Promise) return done.finally(() => s.traceEnd());
  s.traceEnd();
}

async function commitAfterError(ctx: SessionContext, error: unknown): Promise<never> {
  try {
    await commit(ctx);
  } catch (err) {
    // The handler's error is the one the client sees; the commit's is still reported, once (with
    // `defer`, a failed load can reach both).
    if (err !== error) ctx.app.emit('error', err, ctx);
  }
  throw error;
}

function runAndCommit(ctx: SessionContext, next: Next): Promise<void> {
  return next().then(
    () => commit(ctx),
    (err: unknown) => commitAfterError(ctx, err),
  );
}

/** The middleware, with the sessions of any owner (the `owner` option) for use outside requests. */
export type SessionMiddleware = Middleware & { readonly sessions: OwnerSessions };

export function createSessionMiddleware(options?: SessionOptions): SessionMiddleware {
  const runtime = new MiddlewareRuntime(resolveOptions(options));
  const { options: resolved, store } = runtime;
  const needsKeys = !resolved.sessionIdStore && resolved.cookie.signed !== false;
  // A request whose run of the machine may wait for the first use of its session (asked of the
  // machine: no client sid) starts it then, loading at once: a request without a sid reads nothing.
  const startWithoutSid = (ctx: Context) => {
    const s = new RequestSession(runtime, ctx, ABSENT);
    void s.load(); // synchronous
    return s;
  };

  const session = function session(ctx: SessionContext, next: Next) {
    (ctx as { sessionStore?: unknown }).sessionStore = store;
    if (ctx[SESSION] !== undefined || ctx[START_ON_FIRST_USE] !== undefined || !runtime.matches(ctx.path))
      return next();
    const keys: unknown = ctx.app.keys;
    if (needsKeys && (!keys || (Array.isArray(keys) && keys.length === 0))) {
      throw new TypeError('koa-session-machine: signed session cookies need app.keys (or cookie.signed: false)');
    }
    installContextApi(ctx.app.context);
    const forced = takeForcedSid(ctx);
    const reading: SidReading = forced !== undefined ? { kind: 'present', sid: forced } : runtime.carrier.read(ctx);
    // With `defer` every request starts its session on first use; the store is read when the
    // handler first awaits ctx.session (request-session.ts).
    if (resolved.defer) {
      ctx[START_ON_FIRST_USE] = (c: Context) => new RequestSession(runtime, c, reading);
      return runAndCommit(ctx, next);
    }
    if (runtime.startsOnFirstUse[reading.kind]) {
      ctx[START_ON_FIRST_USE] = startWithoutSid;
      return runAndCommit(ctx, next);
    }
    const s = new RequestSession(runtime, ctx, reading);
    ctx[SESSION] = s;
    const loading = s.load();
    if (loading !== undefined) return loading.then(() => runAndCommit(ctx, next));
    return runAndCommit(ctx, next);
  };
  return Object.assign(session, { sessions: ownerSessions(runtime.index) });
}
