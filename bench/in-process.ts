/**
 * Requests handed to a Koa app's `app.callback()` in-process (a real IncomingMessage and
 * ServerResponse, no socket), with the HTTP benchmark's routes: what bench/overhead.ts times and
 * bench/instructions.ts counts under callgrind.
 *
 * BENCH_BASELINE=<path to another build's dist/index.js> adds the same libraries built from that
 * code (`plain@base`, `owner@base`, `at-rest@base`), so that a change is measured against the code
 * before it in the same run: e.g. `git archive <commit> | tar -x -C /tmp/base`, build it there with
 * this node_modules linked in, then `BENCH_BASELINE=/tmp/base/dist/index.js`.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import kgs from 'koa-generic-session';
import session, { MemoryStore } from 'koa-session-machine';
import { APP_KEYS } from './servers/common.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;
type Counter = { count?: number } | null | undefined;

/** A Koa app with the benchmark's routes behind `middleware` (bare Koa without one). */
export function app(middleware?: Koa.Middleware): Handler {
  const koa = new Koa();
  koa.keys = APP_KEYS;
  if (middleware) koa.use(middleware);
  koa.use((ctx) => {
    // `/none` never touches the session, as in the HTTP benchmark's routes.
    if (ctx.path === '/none') {
      ctx.body = { ok: true };
      return;
    }
    const sess = (ctx as unknown as { session: Counter }).session;
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
    // Nothing useful at rest: store keys hashed, values sealed (AES-256-GCM under an HKDF key of the sid).
    [`at-rest${suffix}`]: {
      label: `koa-session-machine${built} + MemoryStore + hashIds + seal`,
      make: () => app(session({ store: new Store(), hashIds: true, seal: true })),
    },
  };
}

const baseline = process.env.BENCH_BASELINE
  ? ((await import(process.env.BENCH_BASELINE)) as { default: Session; MemoryStore: Store })
  : undefined;

/** The libraries compared, by id; each call builds a fresh app (and store). */
export const LIBRARIES: Record<string, { label: string; make: () => Handler }> = {
  koa: { label: 'bare Koa', make: () => app() },
  kgs: { label: 'koa-generic-session + MemoryStore', make: () => app(kgs()) },
  ...variants(session, MemoryStore, '', ''),
  ...(baseline ? variants(baseline.default, baseline.MemoryStore, '@base', ' (baseline)') : {}),
};

/** The in-process scenarios: [id, label, path, whether the client sends its session cookie]. */
export const SCENARIOS: [id: string, label: string, path: string, withCookie: boolean][] = [
  ['write', '`/get` with a cookie (write)', '/get', true],
  ['read', '`/read` with a cookie (read)', '/read', true],
  ['none', '`/none` without a cookie (untouched)', '/none', false],
  ['new', '`/get` without a cookie (new session)', '/get', false],
];
