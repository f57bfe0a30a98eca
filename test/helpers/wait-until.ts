/**
 * Waiting for a condition the tests cannot be told about (a server's state, a key's expiry) by
 * polling it, with a bound and a message that says what did not happen.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` every 50 ms until it returns true (a check that throws counts as false); throws
 * `describe()` when `timeoutMs` passes.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${describe()} (waited ${timeoutMs} ms)`);
    await sleep(50);
  }
}
