/**
 * Watching the lifecycles: `npx tsx examples/inspect.ts`.
 *
 * Runs the counter app of examples/app.ts on 127.0.0.1 with
 * - `inspect`, an XState inspection callback, logging every transition of each request's session
 *   machine and of the store connection machine;
 * - `onEvent`, logging the typed notices (connection changes, degraded requests).
 * It then makes a few requests to itself (count, read, regenerate, log out, and one across a
 * simulated store outage), prints what happened, and exits.
 */
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { InspectionEvent } from 'xstate';
import { MemoryStore, type SessionOptions, type StoredSession } from '../src/index.js';
import { createCounterApp } from './app.js';

/** The embedded store, reporting a connection like RedisStore does, so that an outage can be played. */
class ReportingStore extends EventEmitter {
  private readonly memory = new MemoryStore();
  connected = true;
  get(key: string) {
    return this.memory.get(key);
  }
  set(key: string, session: StoredSession, ttl?: number) {
    return this.memory.set(key, session, ttl);
  }
  destroy(key: string) {
    return this.memory.destroy(key);
  }
}

/** Short names for the actors: each request's session machine is a new actor. */
const names = new Map<string, string>();
function nameOf(event: InspectionEvent, machine: string): string {
  const id = event.actorRef.sessionId;
  if (!names.has(id)) {
    const count = [...names.values()].filter((n) => n.startsWith(machine)).length;
    names.set(id, machine === 'session' ? `session#${count + 1}` : machine);
  }
  return names.get(id)!;
}

const inspect: SessionOptions['inspect'] = (event) => {
  // `@xstate.snapshot` comes after each event an actor processed, with the state it is in now.
  if (event.type !== '@xstate.snapshot') return;
  const snapshot = event.snapshot as unknown as { value: string; machine: { id: string } };
  const who = nameOf(event, snapshot.machine.id);
  console.log(`  [inspect] ${who.padEnd(11)} ${event.event.type.padEnd(18)} → ${snapshot.value}`);
};

const onEvent: SessionOptions['onEvent'] = (notice) => {
  if (notice.type === 'connection') console.log(`  [onEvent] store connection: ${notice.state}`);
  else if (notice.type === 'degraded')
    console.log(`  [onEvent] degraded session on ${notice.ctx.path}: ${notice.reason}`);
  else console.log(`  [onEvent] ${notice.type} session on ${notice.ctx.path}`);
};

const store = new ReportingStore();
const app = createCounterApp({ store, inspect, onEvent, reconnectTimeout: 200 });
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

let cookie = '';
async function request(path: string): Promise<void> {
  console.log(`GET ${path}`);
  const res = await fetch(base + path, { headers: cookie ? { cookie } : {} });
  // A tiny cookie jar: keep what was set, drop what was expired.
  const jar = new Map(cookie ? cookie.split('; ').map((c) => c.split('=') as [string, string]) : []);
  for (const header of res.headers.getSetCookie()) {
    const [pair = ''] = header.split(';');
    const [name = '', value = ''] = pair.split('=');
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(header)) jar.delete(name);
    else jar.set(name, value);
  }
  cookie = [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
  console.log(`  ${res.status} ${await res.text()}\n`);
}

await request('/get'); // a new session, changed: written, cookie sent
await request('/get'); // loaded, changed: rewritten
await request('/read'); // loaded, unchanged: no write
await request('/regenerate'); // old entry destroyed, new sid
await request('/get');
await request('/remove'); // logout: destroyed, cookie expired
await request('/get');

console.log('The store disconnects; after reconnectTimeout (200 ms) it is unavailable:');
store.emit('disconnect');
await new Promise((resolve) => setTimeout(resolve, 250));
await request('/read'); // 503 session store is unavailable
console.log('The store is back:');
store.emit('connect');
await request('/read');

server.close();
