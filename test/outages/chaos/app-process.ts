/**
 * The chaos suite's app processes: `node --import tsx test/outages/chaos/apps/<file>` with the variant's
 * and the topology's environment, on 127.0.0.1. The benchmark's server harness inside prints
 * `BENCH_PORT <port>` once listening and exits when this process goes away (the IPC channel
 * closes). An exit during a run is recorded, so that "the app stayed up" is checked, not assumed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopProcess } from '../../helpers/redis-cluster.js';
import type { Variant } from './variants.js';

/** How long an app may take to start and listen (tsx compiles the sources first). */
const START_TIMEOUT = 30_000;

export interface AppProcess {
  variant: Variant;
  url: string;
  child: ChildProcess;
  /** How it exited, when it did (before `stop()`): the code or signal. */
  exit: string | undefined;
  /** Its stderr (Koa logs the stack of each 500 there), the last 200 kB. */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startApp(variant: Variant, env: Record<string, string>): Promise<AppProcess> {
  const file = fileURLToPath(new URL(`./apps/${variant.file}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, ...variant.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-200_000);
  });
  let stopping = false;
  const app: AppProcess = {
    variant,
    url: '',
    child,
    exit: undefined,
    stderr: () => stderr,
    async stop() {
      stopping = true;
      await stopProcess(child);
    },
  };
  child.once('exit', (code, signal) => {
    if (!stopping) app.exit = String(code ?? signal);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${variant.id}: ${why}\n${stderr.trim()}`));
    };
    const exited = (code: number | null, signal: string | null) => fail(`exited (${code ?? signal}) before listening`);
    const timer = setTimeout(() => fail(`did not listen within ${START_TIMEOUT} ms`), START_TIMEOUT);
    child.once('exit', exited);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /BENCH_PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.off('exit', exited);
        resolve(Number(m[1]));
      }
    });
  });
  app.url = `http://127.0.0.1:${port}`;
  return app;
}
