/**
 * Stopping a child process the tests started (an app, a redis-server), by its pid: SIGCONT (a test
 * may have frozen it), SIGTERM, and SIGKILL if it has not exited after `graceMs`; or killing it
 * outright (SIGKILL), as a fault test does.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Resolves its exit code once it has exited (null when a signal ended it). */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

/** SIGKILL: the process dies at once, without a word to its clients. Resolves once it has exited. */
export async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
