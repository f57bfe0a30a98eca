/**
 * App processes of the tests: `node --import tsx <file>`, listening on 127.0.0.1 as a deployment
 * or a newcomer runs an app. The test starts one and waits for the line of its stdout that says it
 * listens (by default the port alone on a line); `serveAppProcess` is the process's side of that:
 * it listens on a free loopback port, prints it, and on SIGTERM closes the server and the store,
 * then exits.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import { stopProcess } from './stop-process.js';

/** How long a process may take to listen: tsx compiles the sources first. */
const START_TIMEOUT = 30_000;
/** How long a process may take to close after SIGTERM before it gets SIGKILL. */
const STOP_GRACE = 5_000;
/** The most lines of stderr a failure to start quotes. */
const QUOTED_STDERR = 50;

export interface AppProcessOptions {
  /** Its environment, over the test's own. */
  env?: Record<string, string>;
  /** The line of its stdout that says it listens, with the port in its first group. Default: the port alone. */
  listening?: RegExp;
  /** Each line of its stderr, for a test that reads them; without it the process writes on the test's own stderr. */
  onStderr?: (line: string) => void;
  /** An IPC channel: the process can tell that the test went away. */
  ipc?: boolean;
  /** The name of the process in the error when it does not listen (default: its file). */
  name?: string;
}

export interface AppProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Its stdout up to the line that says it listens, that line last. */
  lines: string[];
  /** Stops it (SIGTERM, then SIGKILL after a grace); resolves its exit code (null when a signal ended it). */
  stop(): Promise<number | null>;
}

const running = new Set<AppProcess>();

/** Starts an app process; resolves once it listens, rejects if it exits first or takes longer than START_TIMEOUT. */
export async function startAppProcess(file: string | URL, options: AppProcessOptions = {}): Promise<AppProcess> {
  const path = typeof file === 'string' ? file : fileURLToPath(file);
  const stdio: StdioOptions = ['ignore', 'pipe', options.onStderr ? 'pipe' : 'inherit'];
  if (options.ipc) stdio.push('ipc');
  const child = spawn(process.execPath, ['--import', 'tsx', path], { env: { ...process.env, ...options.env }, stdio });
  const app: AppProcess = {
    child,
    url: '',
    lines: [],
    stop: () => {
      running.delete(app);
      return stopProcess(child, STOP_GRACE);
    },
  };
  running.add(app);
  const stderr: string[] = [];
  if (options.onStderr) {
    const onStderr = options.onStderr;
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      stderr.splice(0, stderr.length - QUOTED_STDERR);
      onStderr(line);
    });
  }
  const listening = options.listening ?? /^(\d+)$/;
  const port = await new Promise<string>((resolve, reject) => {
    const stdout = createInterface({ input: child.stdout! });
    const done = () => {
      clearTimeout(timer);
      child.off('exit', exited);
      stdout.off('line', onLine);
    };
    const fail = (why: string) => {
      done();
      running.delete(app);
      child.kill('SIGKILL');
      reject(new Error([`${options.name ?? path} ${why}`, ...app.lines, ...stderr].join('\n')));
    };
    const exited = (code: number | null, signal: string | null) => fail(`exited (${code ?? signal}) before listening`);
    const onLine = (line: string) => {
      app.lines.push(line);
      const match = listening.exec(line);
      if (!match) return;
      done();
      resolve(match[1]!);
    };
    const timer = setTimeout(() => fail(`did not listen within ${START_TIMEOUT} ms`), START_TIMEOUT);
    child.once('exit', exited);
    stdout.on('line', onLine);
  });
  app.url = `http://127.0.0.1:${port}`;
  return app;
}

/** Stops every app process still running; for `afterEach`. */
export async function stopAppProcesses(): Promise<void> {
  await Promise.all([...running].map((app) => app.stop()));
}

/** The process's side: serves `app` on a free loopback port and prints the port as its first line. */
export function serveAppProcess(app: Koa, store: { close(): Promise<unknown> }): void {
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(typeof address === 'object' && address ? address.port : 0);
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close();
    void store.close().finally(() => process.exit(0));
  });
}
