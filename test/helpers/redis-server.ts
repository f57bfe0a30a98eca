/**
 * A real redis-server (Debian's package) on a free loopback port, in its own temporary directory,
 * without persistence. Used by the global test setup and by fault tests that need a server of
 * their own to stop, restart or freeze.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from './stop-process.js';

export function redisServerBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves when something accepts TCP connections on the port, rejects after `timeoutMs`, or at
 * once when `child` (the process meant to listen there) exits first.
 */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`the process for port ${port} exited (${child.exitCode ?? child.signalCode}) before listening`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RedisServer {
  port: number;
  url: string;
  process: ChildProcess;
  /** Starts it again on the same port after `stop()`. */
  restart(): Promise<void>;
  /** Stops it (./stop-process.ts) and waits for the exit. */
  stop(): Promise<void>;
  /** Freezes it (SIGSTOP): it keeps its connections and never answers. */
  freeze(): void;
  thaw(): void;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
}

export interface RedisServerOptions {
  /** Keep the data across a stop and restart (an append-only file synced on every write). */
  persist?: boolean;
  /** More redis-server arguments, e.g. `['--enable-debug-command', 'yes']`. */
  args?: readonly string[];
}

/**
 * Arguments for a server that loads its dataset slowly after a restart (100 µs a key) and answers
 * between keys, with LOADING: how a big Redis looks while it restarts. Its dataset comes from
 * `DEBUG POPULATE`, which the first argument allows.
 */
export const SLOW_LOADING_ARGS: readonly string[] = [
  '--enable-debug-command',
  'yes',
  '--key-load-delay',
  '100',
  '--loading-process-events-interval-bytes',
  '1024',
];

/**
 * The arguments of a test's redis-server on `port` of 127.0.0.1, working in `dir`: in the
 * foreground, warnings only, no snapshots, and no append-only file unless `persist` (then one
 * synced on every write, so that the data outlives a restart).
 */
export function redisServerArgs(port: number, dir: string, { persist = false } = {}): string[] {
  const persistence = persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    ...persistence,
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  if (!binary) throw new Error('redis-server is not on PATH');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ksm-redis-'));
  const args = [...redisServerArgs(port, dir, { persist: options.persist }), ...(options.args ?? [])];
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(binary, args, { stdio: 'ignore' });
    await waitForPort(port, 10_000, child);
  };
  const stop = async () => void (await stopProcess(child));
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get process() {
      return child;
    },
    restart: launch,
    stop,
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
