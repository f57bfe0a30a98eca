/**
 * The Koa middleware: reads the sid, starts the request's session, runs the handlers, commits.
 * Committing happens after a downstream error too, and the first error is the one that propagates
 * (SPEC §4.8). A second instance on the same request leaves the first in charge (SPEC §4.11).
 */
import type { Context, Middleware, Next } from 'koa';
import { installContextApi, SESSION, takeForcedSid } from './context-api.js';
import { Instance } from './instance.js';
import { resolveOptions, type SessionOptions } from './options.js';
import { RequestSession } from './request-session.js';
import type { SidReading } from './sid-carrier.js';

type SessionContext = Context & { [SESSION]?: RequestSession };

async function runAndCommit(ctx: Context, s: RequestSession, next: Next): Promise<void> {
  let failed = false;
  let error: unknown;
  try {
    await next();
  } catch (err) {
    failed = true;
    error = err;
  }
  try {
    await s.commit();
  } catch (err) {
    if (!failed) throw err;
    // The handler's error is the one the client sees; the commit's is still reported, once (with
    // `defer`, a failed load can reach both).
    if (err !== error) ctx.app.emit('error', err, ctx);
  }
  if (failed) throw error;
}

export function createSessionMiddleware(options?: SessionOptions): Middleware {
  const instance = new Instance(resolveOptions(options));
  const { options: resolved, store } = instance;
  const needsKeys = !resolved.sessionIdStore && resolved.cookie.signed !== false;

  return function session(ctx: SessionContext, next: Next) {
    (ctx as { sessionStore?: unknown }).sessionStore = store;
    if (ctx[SESSION] !== undefined || !instance.matches(ctx.path)) return next();
    if (needsKeys && !ctx.app.keys) {
      throw new TypeError('koa-session-machine: signed session cookies need app.keys (or cookie.signed: false)');
    }
    installContextApi(ctx.app.context);
    const forced = takeForcedSid(ctx);
    const reading: SidReading = forced !== undefined ? { kind: 'present', sid: forced } : instance.carrier.read(ctx);
    const s = new RequestSession(instance, ctx, reading);
    ctx[SESSION] = s;
    if (!resolved.defer) {
      const loading = s.load();
      if (loading !== undefined) return loading.then(() => runAndCommit(ctx, s, next));
    }
    return runAndCommit(ctx, s, next);
  };
}
