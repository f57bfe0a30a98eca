/**
 * What each session library adds to a Koa request, without the network: requests are handed to
 * `app.callback()` in-process (a real IncomingMessage and ServerResponse, no socket), one after
 * another, and the µs per request are compared with bare Koa measured in the same run. On this
 * kind of virtual machine the loopback socket writes cost more than the session work, which
 * blurs the HTTP benchmark's ratios; this shows the libraries' own cost. The last column is this
 * library with the `owner` option (docs/managing-sessions.md), then with `hashIds` and `seal`; the
 * ratio compares the first two.
 *
 *   npm run build && NODE_ENV=production npx tsx bench/overhead.ts
 *
 * Environment: OVERHEAD_REQUESTS (per measurement, default 30 000).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import kgs from 'koa-generic-session';
import session from 'koa-session-machine';
import { APP_KEYS } from './servers/common.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;
type Counter = { count?: number } | null | undefined;

const REQUESTS = Number(process.env.OVERHEAD_REQUESTS ?? 30_000);

function app(middleware?: Koa.Middleware): Handler {
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
function request(handler: Handler, path: string, cookie?: string): Promise<string[]> {
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

async function perRequest(handler: Handler, path: string, cookie?: string): Promise<number> {
  for (let i = 0; i < REQUESTS / 10; i++) await request(handler, path, cookie);
  const start = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) await request(handler, path, cookie);
  return Number(process.hrtime.bigint() - start) / REQUESTS / 1000;
}

const cookieOf = async (handler: Handler) => (await request(handler, '/get')).map((c) => c.split(';')[0]).join('; ');

const bare = app();
const libraries: [string, Handler][] = [
  ['koa-generic-session + MemoryStore', app(kgs())],
  ['koa-session-machine + MemoryStore', app(session())],
  // With `owner`: every session with a counter belongs to one user, whose index the writes keep.
  [
    'koa-session-machine + MemoryStore + owner',
    app(session({ owner: (s) => (s.count === undefined ? undefined : 'bench') })),
  ],
  // Nothing useful at rest: store keys hashed, values sealed (AES-256-GCM under an HKDF key of the sid).
  ['koa-session-machine + MemoryStore + hashIds + seal', app(session({ hashIds: true, seal: true }))],
];
const scenarios: [string, string, boolean][] = [
  ['`/get` with a cookie (write)', '/get', true],
  ['`/read` with a cookie (read)', '/read', true],
  ['`/none` without a cookie (untouched)', '/none', false],
  ['`/get` without a cookie (new session)', '/get', false],
];

console.log(`| scenario | bare Koa µs | ${libraries.map(([n]) => `${n}: added µs`).join(' | ')} | added, kgs ÷ ksm |`);
console.log(`|---|--:|${libraries.map(() => '--:|').join('')}--:|`);
for (const [label, path, withCookie] of scenarios) {
  const base = await perRequest(bare, path);
  const added: number[] = [];
  for (const [, handler] of libraries) {
    const cookie = withCookie ? await cookieOf(handler) : undefined;
    added.push((await perRequest(handler, path, cookie)) - base);
  }
  // Below a µs the difference to bare Koa is within the run-to-run noise: no ratio is made of it.
  const ratio = added[1]! >= 1 ? `${(added[0]! / added[1]!).toFixed(1)}×` : '– (within noise)';
  const shown = added.map((a) => (a >= 0 ? `+${a.toFixed(1)}` : `−${(-a).toFixed(1)}`));
  console.log(`| ${label} | ${base.toFixed(1)} | ${shown.join(' | ')} | ${ratio} |`);
}
