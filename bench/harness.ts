/**
 * What the benchmark scripts share (bench/run.ts, bench/profile.ts): the variants and scenarios,
 * the child processes (each server on 127.0.0.1, pinned to core 1 when there are two cores or
 * more, always killed at the end), redis-server, and the load generator.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { StatsReply } from './servers/common.js';
// The same free-port and readiness helpers as the tests' redis-server.
import {
  freePort,
  redisServerArgs,
  redisServerBinary as redisBinary,
  waitForPort,
} from '../test/helpers/redis-server.js';

export { freePort, redisBinary };

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..');

// ---------------------------------------------------------------------------------------------
// Configuration

export interface Variant {
  id: string;
  label: string;
  file: string;
  redis?: boolean;
  /** Whether the library has a `rolling` option (bare Koa has no session to roll). */
  rolling: boolean;
  /** Extra environment for the server (e.g. BENCH_CONCURRENCY). */
  env?: Record<string, string>;
}

export const VARIANTS: Variant[] = [
  { id: 'koa', label: 'bare Koa 3', file: 'koa.ts', rolling: false },
  { id: 'kgs-memory', label: 'koa-generic-session + MemoryStore', file: 'kgs-memory.ts', rolling: true },
  { id: 'kgs-redis', label: 'koa-generic-session + koa-redis', file: 'kgs-redis.ts', redis: true, rolling: true },
  { id: 'koa-session', label: 'koa-session 7 (cookie)', file: 'koa-session.ts', rolling: true },
  { id: 'ksm-memory', label: 'koa-session-machine + MemoryStore', file: 'ksm-memory.ts', rolling: true },
  { id: 'ksm-redis', label: 'koa-session-machine + RedisStore', file: 'ksm-redis.ts', redis: true, rolling: true },
  {
    id: 'ksm-memory-serialize',
    label: "koa-session-machine + MemoryStore, concurrency: 'serialize'",
    file: 'ksm-memory.ts',
    rolling: true,
    env: { BENCH_CONCURRENCY: 'serialize' },
  },
  {
    id: 'ksm-redis-serialize',
    label: "koa-session-machine + RedisStore, concurrency: 'serialize'",
    file: 'ksm-redis.ts',
    redis: true,
    rolling: true,
    env: { BENCH_CONCURRENCY: 'serialize' },
  },
  {
    id: 'ksm-memory-at-rest',
    label: 'koa-session-machine + MemoryStore, hashIds + seal',
    file: 'ksm-memory.ts',
    rolling: true,
    env: { BENCH_AT_REST: '1' },
  },
  {
    id: 'ksm-redis-at-rest',
    label: 'koa-session-machine + RedisStore, hashIds + seal',
    file: 'ksm-redis.ts',
    redis: true,
    rolling: true,
    env: { BENCH_AT_REST: '1' },
  },
  {
    id: 'ksm-redis-owner',
    label: 'koa-session-machine + RedisStore, owner',
    file: 'ksm-redis.ts',
    redis: true,
    rolling: true,
    env: { BENCH_OWNER: '1' },
  },
  {
    id: 'ksm-memory-owner',
    label: 'koa-session-machine + MemoryStore, owner',
    file: 'ksm-memory.ts',
    rolling: true,
    env: { BENCH_OWNER: '1' },
  },
  {
    id: 'ksm-memory-no-tombstones',
    label: 'koa-session-machine + MemoryStore, tombstoneTtl: 0',
    file: 'ksm-memory.ts',
    rolling: true,
    env: { BENCH_TOMBSTONES: '0' },
  },
  {
    id: 'ksm-redis-no-tombstones',
    label: 'koa-session-machine + RedisStore, tombstoneTtl: 0',
    file: 'ksm-redis.ts',
    redis: true,
    rolling: true,
    env: { BENCH_TOMBSTONES: '0' },
  },
  ...baselineVariants(),
];

/**
 * BENCH_BASELINE=<dir>: another build of this library (a checkout of the commit to compare with,
 * built with `npm run build`) runs beside this one, as variants `ksm-memory-baseline` and
 * `ksm-redis-baseline`, so that a change's cost is measured against it in the same run.
 */
function baselineVariants(): Variant[] {
  const dir = process.env.BENCH_BASELINE;
  if (!dir) return [];
  const env = { BENCH_KSM: join(dir, 'dist', 'index.js') };
  return [
    {
      id: 'ksm-memory-baseline',
      label: `koa-session-machine + MemoryStore, ${dir}`,
      file: 'ksm-memory.ts',
      rolling: true,
      env,
    },
    {
      id: 'ksm-redis-baseline',
      label: `koa-session-machine + RedisStore, ${dir}`,
      file: 'ksm-redis.ts',
      redis: true,
      rolling: true,
      env,
    },
  ];
}

export interface Scenario {
  id: string;
  title: string;
  path: string;
  /** Obtain a session cookie first and send it on every request. */
  cookie: boolean;
  rolling: boolean;
}

export const SCENARIOS: Scenario[] = [
  { id: 'get-cookie', title: '`/get` with a cookie (write every request)', path: '/get', cookie: true, rolling: false },
  { id: 'read-cookie', title: '`/read` with a cookie (read only)', path: '/read', cookie: true, rolling: false },
  { id: 'none', title: '`/none` without a cookie (session untouched)', path: '/none', cookie: false, rolling: false },
  {
    id: 'get-new',
    title: '`/get` without a cookie (new session each request)',
    path: '/get',
    cookie: false,
    rolling: false,
  },
  {
    id: 'rolling-read',
    title: '`/read` with a cookie, `rolling: true` (touch)',
    path: '/read',
    cookie: true,
    rolling: true,
  },
];

export function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

export function list(name: string): string[] | undefined {
  const raw = process.env[name];
  if (!raw) return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The median of the finite values (NaN when there is none). */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const CONNECTIONS = Math.round(positiveNumber('BENCH_CONNECTIONS', 50));
export const NPROC = cpus().length;
export const PIN = NPROC >= 2 && spawnSync('taskset', ['--version']).status === 0;

export function selected<T extends { id: string }>(all: T[], envName: string): T[] {
  const wanted = list(envName);
  if (!wanted) return all;
  const unknown = wanted.filter((id) => !all.some((x) => x.id === id));
  if (unknown.length)
    throw new Error(`${envName}: unknown id(s) ${unknown.join(', ')}; known: ${all.map((x) => x.id).join(', ')}`);
  return all.filter((x) => x.id === 'koa' || wanted.includes(x.id));
}

// ---------------------------------------------------------------------------------------------
// Children: bounded, tracked, always killed

const children = new Set<ChildProcess>();
/** Children being stopped on purpose: their exit is expected. */
const stopping = new WeakSet<ChildProcess>();

export function killAll(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }
}

/** Kills every child on exit, and on SIGINT / SIGTERM before exiting. */
export function installCleanup(): void {
  process.on('exit', () => killAll('SIGKILL'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping every server`);
      killAll('SIGTERM');
      setTimeout(() => {
        killAll('SIGKILL');
        process.exit(130);
      }, 500);
    });
  }
}

export async function stopChild(child: ChildProcess, timeoutMs = 3_000): Promise<void> {
  stopping.add(child);
  if (child.exitCode !== null || child.signalCode !== null) {
    children.delete(child);
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
  children.delete(child);
}

export function pinned(command: string, args: string[], core: number): [string, string[]] {
  return PIN ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

// ---------------------------------------------------------------------------------------------
// redis-server

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(binary: string): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ksm-bench-redis-'));
  const args = redisServerArgs(port, dir);
  // redis-server shares core 0 with the load generator: core 1 is the measured server's alone.
  const [command, fullArgs] = pinned(binary, args, 0);
  const child = spawn(command, fullArgs, { stdio: 'ignore' });
  children.add(child);
  await waitForPort(port, 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One command over RESP, without a client library: CONFIG RESETSTAT and INFO commandstats. */
export async function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('redis command timed out'));
    }, 5_000);
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      // A simple string/error reply, or a bulk string once all of it arrived.
      const bulk = /^\$(\d+)\r\n/.exec(data);
      if (
        (/^[+-]/.test(data) && data.endsWith('\r\n')) ||
        (bulk && data.length >= bulk[0].length + Number(bulk[1]) + 2)
      ) {
        clearTimeout(timer);
        socket.end();
        resolve(bulk ? data.slice(bulk[0].length, bulk[0].length + Number(bulk[1])) : data.trim());
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

export function commandCounts(info: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) counts[m[1]!] = Number(m[2]);
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Benchmark servers

export interface BenchServer {
  variant: Variant;
  port: number;
  child: ChildProcess;
  stats(): Promise<StatsReply>;
  /** What the server wrote to stderr so far (the tail), e.g. Koa's logged errors. */
  stderr(): string;
}

let statsId = 0;

export async function startServer(
  variant: Variant,
  rolling: boolean,
  redisUrl: string | undefined,
  nodeArgs: string[] = [],
): Promise<BenchServer> {
  const file = join(HERE, 'servers', variant.file);
  const [command, args] = pinned(process.execPath, [...nodeArgs, '--import', 'tsx', file], 1);
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...variant.env, BENCH_ROLLING: rolling ? '1' : '0', BENCH_REDIS_URL: redisUrl ?? '' },
  });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('did not print its port within 30 s')), 30_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${variant.id}: ${err.message}\n${stderr.trim()}`));
    };
    child.once('exit', (code, signal) => fail(new Error(`exited (${code ?? signal}) before listening`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /BENCH_PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(Number(m[1]));
      }
    });
  });
  child.on('exit', (code, signal) => {
    if (!stopping.has(child))
      console.error(`  ! ${variant.id} exited unexpectedly (${code ?? signal})\n${stderr.trim()}`);
  });
  const pending = new Map<number, (reply: StatsReply) => void>();
  child.on('message', (message: StatsReply) => {
    if (message?.type === 'stats') pending.get(message.id)?.(message);
  });
  return {
    variant,
    port,
    child,
    stderr: () => stderr,
    stats() {
      const id = ++statsId;
      return new Promise<StatsReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${variant.id}: no stats reply within 5 s`));
        }, 5_000);
        pending.set(id, (reply) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(reply);
        });
        child.send({ type: 'stats', id });
      });
    },
  };
}

/** One plain request; resolves with the status, the body and the `name=value` of each Set-Cookie. */
export function fetchOnce(
  port: number,
  path: string,
  cookie?: string,
): Promise<{ status: number; body: string; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, headers: cookie ? { cookie } : {}, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const cookies = (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).filter((c) => !/=$/.test(c));
          resolve({ status: res.statusCode ?? 0, body, cookies });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A cookie header of the same shape and size for bare Koa, which sets none. */
export const DUMMY_COOKIE = 'koa.sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; koa.sid.sig=AAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * The Cookie header of a scenario: a session created with one `/get`, checked to be found again
 * (a `/read` with it answers a count of 1 or more), so that a benchmark never silently measures
 * new sessions instead of loaded ones.
 */
export async function prepareCookie(server: BenchServer, scenario: Scenario): Promise<string | undefined> {
  if (!scenario.cookie) return undefined;
  if (server.variant.id === 'koa') return DUMMY_COOKIE;
  const first = await fetchOnce(server.port, '/get');
  if (first.status !== 200 || first.cookies.length === 0) {
    throw new Error(`${server.variant.id}: /get answered ${first.status} without a session cookie`);
  }
  const cookie = first.cookies.join('; ');
  const check = await fetchOnce(server.port, '/read', cookie);
  const count = (JSON.parse(check.body) as { count?: number }).count ?? 0;
  if (check.status !== 200 || !(count >= 1)) {
    throw new Error(
      `${server.variant.id}: the session cookie was not recognised (/read answered ${check.status} ${check.body})`,
    );
  }
  return cookie;
}

/** autocannon against 127.0.0.1:port for `seconds`, keep-alive, bounded by a watchdog. */
export async function drive(
  port: number,
  path: string,
  cookie: string | undefined,
  seconds: number,
): Promise<autocannon.Result> {
  const run = autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    headers: cookie ? { cookie } : {},
  });
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        (run as unknown as { stop?: () => void }).stop?.();
        reject(new Error(`autocannon did not finish within ${seconds + 30} s`));
      },
      (seconds + 30) * 1_000,
    );
  });
  try {
    return await Promise.race([run, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a script's `main`, then ends every child it started, whatever happened. */
export function runMain(main: () => Promise<void>): void {
  main()
    .then(() => {
      killAll('SIGKILL');
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      killAll('SIGKILL');
      process.exit(1);
    });
}
