/**
 * What every benchmark server shares: the routes, and the harness that serves a Koa app on a free
 * loopback port, prints `BENCH_PORT <port>` once listening, and answers the parent's `stats`
 * messages (over the IPC channel, so the measured HTTP path is never touched) with its CPU time,
 * RSS and the number of requests served.
 *
 * Environment: BENCH_ROLLING=1 asks the session libraries for `rolling: true`; BENCH_REDIS_URL is
 * the redis-server of the Redis variants; BENCH_CONCURRENCY=serialize selects this library's
 * no-lost-updates mode; BENCH_AT_REST=1 turns on `hashIds` and `seal`; BENCH_OWNER=1 sets `owner`
 * (the session's counter's owner: every session has one); BENCH_TOMBSTONES=0 turns the tombstones
 * of retired sids off (`tombstoneTtl: 0`; they are on by default).
 */
import { createServer } from 'node:http';
import type Koa from 'koa';
import type { Context } from 'koa';
import type { SessionOptions, SessionStore } from 'koa-session-machine';

export const rolling = process.env.BENCH_ROLLING === '1';
export const redisUrl = process.env.BENCH_REDIS_URL ?? '';
/**
 * BENCH_CONCURRENCY=serialize: this library's no-lost-updates mode (the middleware refuses any
 * other value at start-up, with a message that names it).
 */
const concurrency = (process.env.BENCH_CONCURRENCY || undefined) as SessionOptions['concurrency'];

/** BENCH_AT_REST=1: `hashIds` and `seal` on. */
const atRest = process.env.BENCH_AT_REST === '1';
/** BENCH_OWNER=1: every session belongs to one owner, so each write keeps the owner index in step. */
const owned = process.env.BENCH_OWNER === '1';
/** BENCH_TOMBSTONES=0: no tombstones of retired sids. */
const noTombstones = process.env.BENCH_TOMBSTONES === '0';

/**
 * This library's options for a variant: `rolling`, and `concurrency`, `hashIds` + `seal`, `owner`
 * or `tombstoneTtl: 0` when the variant asks for them.
 */
export function ksmOptions(store: SessionStore): SessionOptions {
  return {
    store,
    rolling,
    ...(concurrency ? { concurrency } : {}),
    ...(atRest ? { hashIds: true, seal: true } : {}),
    ...(owned ? { owner: () => 'bench-user' } : {}),
    ...(noTombstones ? { tombstoneTtl: 0 } : {}),
  };
}

/** The library the servers of this library run: this build, or BENCH_KSM's (a baseline: BENCH_BASELINE in harness.ts). */
export async function ksmLibrary(): Promise<typeof import('koa-session-machine')> {
  return (await import(process.env.BENCH_KSM ?? 'koa-session-machine')) as typeof import('koa-session-machine');
}

export const APP_KEYS = ['keys', 'keykeys'];

type CounterSession = { count?: unknown } | null | undefined;

/**
 * The routes of the session variants, identical for all of them: `/get` increments the counter
 * (a write), `/read` reads it, `/none` never touches `ctx.session`.
 */
export function sessionRoutes(): Koa.Middleware {
  return async (ctx: Context) => {
    switch (ctx.path) {
      case '/get': {
        const sess = (ctx as unknown as { session: CounterSession }).session;
        if (!sess) break;
        sess.count = (typeof sess.count === 'number' ? sess.count : 0) + 1;
        ctx.body = { count: sess.count };
        return;
      }
      case '/read': {
        const sess = (ctx as unknown as { session: CounterSession }).session;
        ctx.body = { count: typeof sess?.count === 'number' ? sess.count : 0 };
        return;
      }
      case '/none':
        ctx.body = { ok: true };
        return;
    }
    ctx.status = 404;
  };
}

export interface StatsReply {
  type: 'stats';
  id: number;
  /** µs of CPU (user + system) since the process started. */
  cpu: number;
  rss: number;
  requests: number;
  /** The monotonic clock in µs (the clock of `--cpu-prof` sample timestamps). */
  hr: number;
}

/** Serves `app` and wires up the parent protocol; `close` runs before the process exits. */
export function serve(app: Koa, close: () => unknown = () => undefined): void {
  const handler = app.callback();
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    void handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    // Bounded: a store that does not close in time does not keep the process alive.
    setTimeout(() => process.exit(0), 1_000).unref();
    server.closeAllConnections();
    server.close();
    try {
      await close();
    } catch {
      // Exiting anyway.
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void exit());
  process.on('SIGINT', () => void exit());
  // The parent went away (it crashed or was killed): never outlive it.
  process.on('disconnect', () => void exit());
  process.on('message', (message: { type?: string; id?: number }) => {
    if (message?.type === 'stats') {
      const { user, system } = process.cpuUsage();
      const reply: StatsReply = {
        type: 'stats',
        id: message.id ?? 0,
        cpu: user + system,
        rss: process.memoryUsage.rss(),
        requests,
        hr: Number(process.hrtime.bigint() / 1000n),
      };
      process.send?.(reply);
    } else if (message?.type === 'exit') {
      void exit();
    }
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`BENCH_PORT ${port}\n`);
  });
}
