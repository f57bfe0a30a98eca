/**
 * Real HTTP for the kit: an app listening on 127.0.0.1 on a free port, and requests made with
 * `fetch`, their `Set-Cookie` headers parsed the way a browser reads them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  url: string;
  close(): Promise<void>;
}

/** Anything with Koa's `callback()`: Koa 2 and Koa 3 apps alike. */
export interface Callable {
  callback(): (req: never, res: never) => void;
}

export async function listen(app: Callable): Promise<Listening> {
  const server: Server = createServer(app.callback() as never);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
