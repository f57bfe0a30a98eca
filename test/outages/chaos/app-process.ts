/**
 * The chaos suite's app processes: test/outages/chaos/apps/<file> with the variant's and the
 * topology's environment. The benchmark's server harness inside prints `BENCH_PORT <port>` once
 * listening and exits when this process goes away (the IPC channel closes). An exit during a run is
 * recorded, so that "the app stayed up" is checked, not assumed.
 */
import { startAppProcess } from '../../helpers/app-process.js';
import type { Variant } from './variants.js';

export interface ChaosApp {
  variant: Variant;
  url: string;
  /** How it exited, when it did (before `stop()`): the code or signal. */
  exit: string | undefined;
  /** Its stderr (Koa logs the stack of each 500 there), the last 200 kB. */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startChaosApp(variant: Variant, env: Record<string, string>): Promise<ChaosApp> {
  let stderr = '';
  const started = await startAppProcess(new URL(`./apps/${variant.file}`, import.meta.url), {
    env: { ...variant.env, ...env },
    listening: /BENCH_PORT (\d+)/,
    onStderr: (line) => {
      stderr = `${stderr}${line}\n`.slice(-200_000);
    },
    ipc: true,
    name: variant.id,
  });
  let stopping = false;
  const app: ChaosApp = {
    variant,
    url: started.url,
    exit: undefined,
    stderr: () => stderr,
    async stop() {
      stopping = true;
      await started.stop();
    },
  };
  started.child.once('exit', (code, signal) => {
    if (!stopping) app.exit = String(code ?? signal);
  });
  return app;
}
