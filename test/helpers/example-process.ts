/**
 * An example of examples/ as a newcomer runs it: its own process (`tsx`), `PORT=0`, the URL it
 * prints on its first line; `use` gets a client for that URL; then SIGTERM, and the process must
 * exit 0.
 */
import { expect } from 'vitest';
import { startAppProcess, type AppProcess } from './app-process.js';
import { Client } from './http.js';

/** What an example prints once it listens: its URL. */
const LISTENING = /http:\/\/127\.0\.0\.1:(\d+)\//;

/** An example in its own process, listening on a free port. */
export function startExample(file: string, env: Record<string, string>): Promise<AppProcess> {
  return startAppProcess(file, { env: { PORT: '0', ...env }, listening: LISTENING });
}

export async function runExample<T>(
  file: string,
  env: Record<string, string>,
  use: (client: Client) => Promise<T>,
): Promise<{ line: string; result: T }> {
  const example = await startExample(file, env);
  try {
    const [line] = example.lines as [string];
    const url = LISTENING.exec(line)?.[0];
    expect(url, line).toBeDefined();
    return { line, result: await use(new Client(url!.slice(0, -1))) };
  } finally {
    expect(await example.stop()).toBe(0);
  }
}
