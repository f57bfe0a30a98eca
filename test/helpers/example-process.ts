/**
 * An example of examples/ as a newcomer runs it: its own process (`tsx`), `PORT=0`, the URL it
 * prints on its first line; `use` gets a client for that URL; then SIGTERM, and the process must
 * exit 0.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { Client } from './http.js';

export async function runExample<T>(
  file: string,
  env: Record<string, string>,
  use: (client: Client) => Promise<T>,
): Promise<{ line: string; result: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)?.[0];
    expect(url, line).toBeDefined();
    return { line, result: await use(new Client(url!.slice(0, -1))) };
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  }
}
