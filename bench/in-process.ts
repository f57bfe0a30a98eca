/**
 * Requests handed to a Koa app's `app.callback()` in-process (a real IncomingMessage and
 * ServerResponse, no socket), with the HTTP benchmark's routes: what bench/overhead.ts times and
 * bench/instructions.ts counts under callgrind.
 *
 * BENCH_BASELINE=<dir of another build> adds the same libraries built from that code
 * (`plain@base`, `owner@base`, `at-rest@base`), so that a change is measured against the code
 * before it in the same run: e.g. `git archive <commit> | tar -x -C /tmp/base`, build it there with
 * this node_modules linked in, then `BENCH_BASELINE=/tmp/base` (as for `npm run bench`, whose
 * variants read the same variable: bench/harness.ts).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Socket } from 'node:net';
import Koa from 'koa';
import kgs from 'koa-generic-session';
import session, { MemoryStore } from 'koa-session-machine';
import { APP_KEYS } from './servers/common.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;
type Counter = { count?: number } | null | undefined;

/**
 * A Koa app with the benchmark's routes behind `middleware` (bare Koa without one): `/get` counts,
 * `/read` reads, `/none` never touches the session, `/login` regenerates the session and puts a
 * user in it, `/logout` ends it.
 */
export function app(middleware?: Koa.Middleware): Handler {
  const koa = new Koa();
  koa.keys = APP_KEYS;
  if (middleware) koa.use(middleware);
  koa.use(async (ctx) => {
    if (ctx.path === '/none') {
      ctx.body = { ok: true };
      return;
    }
    const context = ctx as unknown as { session: Counter; regenerateSession?: () => Promise<unknown> };
    if (ctx.path === '/login' && context.regenerateSession) {
      await context.regenerateSession();
      (context.session as Record<string, unknown>).user = 'bench';
    } else if (ctx.path === '/logout' && middleware) {
      context.session = null;
    }
    const sess = context.session;
    if (ctx.path === '/get' && sess) sess.count = (sess.count ?? 0) + 1;
    ctx.body = { count: sess?.count ?? 0 };
  });
  return koa.callback() as Handler;
}

/** One request through `handler`; its Set-Cookie headers. */
export function request(handler: Handler, path: string, cookie?: string): Promise<string[]> {
  return new Promise((resolve) => {
    const req = new IncomingMessage(new Socket());
    req.method = 'GET';
    req.url = path;
    req.headers = cookie ? { host: 'bench', cookie } : { host: 'bench' };
    const res = new ServerResponse(req);
    res.end = function (this: ServerResponse) {
      resolve(([] as string[]).concat((this.getHeader('set-cookie') as string[] | undefined) ?? []));
      return this;
    } as ServerResponse['end'];
    void handler(req, res);
  });
}

/** The `Cookie` header a client sends back after its first `/get`. */
export async function cookieOf(handler: Handler): Promise<string> {
  return (await request(handler, '/get')).map((c) => c.split(';')[0]).join('; ');
}

type Session = typeof session;
type Store = typeof MemoryStore;

/** This library's variants, built from `session` and `Store` (this build's, or BENCH_BASELINE's). */
function variants(session: Session, Store: Store, suffix: string, built: string) {
  return {
    [`plain${suffix}`]: {
      label: `koa-session-machine${built} + MemoryStore`,
      make: () => app(session({ store: new Store() })),
    },
    // With `owner`: every session with a counter belongs to one user, whose index the writes keep.
    [`owner${suffix}`]: {
      label: `koa-session-machine${built} + MemoryStore + owner`,
      make: () => app(session({ store: new Store(), owner: (s) => (s.count === undefined ? undefined : 'bench') })),
    },
    // Without the tombstones of retired sids (on by default), to show what they cost.
    [`no-tombstones${suffix}`]: {
      label: `koa-session-machine${built} + MemoryStore, tombstoneTtl: 0`,
      make: () => app(session({ store: new Store(), tombstoneTtl: 0 })),
    },
    // Nothing useful at rest: store keys hashed, values sealed (AES-256-GCM under an HKDF key of the sid).
    [`at-rest${suffix}`]: {
      label: `koa-session-machine${built} + MemoryStore + hashIds + seal`,
      make: () => app(session({ store: new Store(), hashIds: true, seal: true })),
    },
  };
}

const baseline = process.env.BENCH_BASELINE
  ? ((await import(join(process.env.BENCH_BASELINE, 'dist', 'index.js'))) as { default: Session; MemoryStore: Store })
  : undefined;

/** The libraries compared, by id; each call builds a fresh app (and store). */
export const LIBRARIES: Record<string, { label: string; make: () => Handler }> = {
  koa: { label: 'bare Koa', make: () => app() },
  kgs: { label: 'koa-generic-session + MemoryStore', make: () => app(kgs()) },
  ...variants(session, MemoryStore, '', ''),
  ...(baseline ? variants(baseline.default, baseline.MemoryStore, '@base', ' (baseline)') : {}),
};

export interface Scenario {
  id: string;
  label: string;
  path: string;
  /**
   * The session cookie sent: none, the same one on every request (`kept`), or a new session's,
   * made by an untimed `/get` before each request (`fresh`: a login or logout ends the session it
   * is sent with).
   */
  cookie: 'none' | 'kept' | 'fresh';
}

export const SCENARIOS: Scenario[] = [
  { id: 'write', label: '`/get` with a cookie (write)', path: '/get', cookie: 'kept' },
  { id: 'read', label: '`/read` with a cookie (read)', path: '/read', cookie: 'kept' },
  { id: 'none', label: '`/none` without a cookie (untouched)', path: '/none', cookie: 'none' },
  { id: 'new', label: '`/get` without a cookie (new session)', path: '/get', cookie: 'none' },
  { id: 'login', label: '`/login` with a session (regenerate)', path: '/login', cookie: 'fresh' },
  { id: 'logout', label: '`/logout` of a session (destroy)', path: '/logout', cookie: 'fresh' },
];
