/**
 * What the Linux kernel says about a test's processes and sockets (/proc): whether a process is
 * stopped, and the queues of the sockets on a local port. Fault tests wait on these instead of
 * guessing with a sleep: a frozen server is frozen once the kernel says so, and a command is on the
 * wire once its bytes wait unread on the server's connection.
 */
import { readFileSync } from 'node:fs';
import type { RedisServer } from './redis-server.js';
import { waitUntil } from './wait-until.js';

/** The queues of the sockets on a local TCP port in `state`: bytes (or, listening, connections) waiting. */
export function queuesAt(port: number, state: 'ESTABLISHED' | 'LISTEN'): { tx: number; rx: number }[] {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const code = state === 'ESTABLISHED' ? '01' : '0A';
  const found = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, address, , st, queues] = line.trim().split(/\s+/);
    if (address?.endsWith(local) && st === code) {
      const [tx, rx] = queues!.split(':').map((hex) => parseInt(hex, 16));
      found.push({ tx: tx!, rx: rx! });
    }
  }
  return found;
}

/** Bytes that arrived on the connections of a server listening on `port` and that it has not read. */
export function unreadBytes(port: number): number {
  return queuesAt(port, 'ESTABLISHED').reduce((sum, q) => sum + q.rx, 0);
}

/** Freezes the server (SIGSTOP) and resolves once the kernel says it is stopped. */
export async function frozen(redis: RedisServer): Promise<void> {
  redis.freeze();
  const pid = redis.process.pid!;
  await waitUntil(
    async () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T') === true,
    5_000,
    () => `redis-server ${pid} never stopped`,
  );
}

/** Resolves once bytes sent to the server on `port` wait there unread (a frozen server's commands on the wire). */
export async function commandsArrived(port: number): Promise<void> {
  await waitUntil(
    async () => unreadBytes(port) > 0,
    5_000,
    () => `nothing arrived unread on port ${port}`,
  );
}
