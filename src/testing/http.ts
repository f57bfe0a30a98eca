/**
 * Real HTTP for the kit: apps served on 127.0.0.1 on a free port, and requests made with `fetch`,
 * their `Set-Cookie` headers parsed the way a browser reads them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  url: string;
  close(): Promise<void>;
}

/** Anything with Koa's `callback()`: Koa 2 and Koa 3 apps alike. */
export interface Callable {
  callback(): (req: IncomingMessage, res: ServerResponse) => unknown;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * One server on 127.0.0.1 for every app the kit starts: each app is mounted under a path of its
 * own (`/app-<n>`), so that the client keeps its connections alive from one path to the next
 * instead of opening one per app. Nothing of it holds the process open.
 */
let shared: Promise<{ base: string; apps: Map<string, Handler> }> | undefined;
let mounted = 0;

function sharedServer(): Promise<{ base: string; apps: Map<string, Handler> }> {
  shared ??= new Promise((resolve, reject) => {
    const apps = new Map<string, Handler>();
    const server: Server = createServer((req, res) => {
      const id = /^\/(app-\d+)/.exec(req.url ?? '')?.[1];
      const handler = id === undefined ? undefined : apps.get(id);
      if (handler === undefined) {
        res.statusCode = 404;
        res.end('no such app');
        return;
      }
      void handler(req, res);
    });
    server.on('connection', (socket) => socket.unref());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      const { port } = server.address() as AddressInfo;
      resolve({ base: `http://127.0.0.1:${port}`, apps });
    });
  });
  return shared;
}

/** Serves `app` until `close()`; its requests go to `url` and paths under it. */
export async function listen(app: Callable): Promise<Listening> {
  const { base, apps } = await sharedServer();
  const id = `app-${++mounted}`;
  apps.set(id, app.callback());
  return {
    url: `${base}/${id}`,
    close: async () => void apps.delete(id),
  };
}

export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
  /** True when the header deletes the cookie (an expiry in the past, or Max-Age=0). */
  expired: boolean;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  const attributes: Record<string, string | true> = {};
  for (const part of rest) {
    const i = part.indexOf('=');
    const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    attributes[key] = i < 0 ? true : part.slice(i + 1).trim();
  }
  const expires = typeof attributes.expires === 'string' ? Date.parse(attributes.expires) : NaN;
  const expired = attributes['max-age'] === '0' || (!Number.isNaN(expires) && expires <= Date.now());
  return { name, value, attributes, expired };
}

export interface Reply {
  status: number;
  text: string;
  setCookies: SetCookie[];
}

export async function request(url: string, cookie?: string): Promise<Reply> {
  const res = await fetch(url, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, text, setCookies: res.headers.getSetCookie().map(parseSetCookie) };
}
