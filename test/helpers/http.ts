/**
 * Real HTTP for tests: an app listening on 127.0.0.1 on a free port, and a client with a small
 * cookie jar that behaves like a browser for what the tests need (set, overwrite, expire, path).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

export interface Listening {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Anything with Koa's `callback()`: Koa 2 and Koa 3 apps alike. */
export interface Callable {
  callback(): (req: never, res: never) => void;
}

export async function listen(app: Callable): Promise<Listening> {
  const { createServer } = await import('node:http');
  const server = createServer(app.callback() as never);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
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
  /** True when the header deletes the cookie (an expiry in the past or Max-Age=0). */
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
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: any;
  headers: Headers;
  setCookies: SetCookie[];
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Send this Cookie header instead of the jar's. */
  cookie?: string;
}

/** A client with a cookie jar, like one browser tab. */
export class Client {
  readonly jar = new Map<string, { value: string; path: string }>();

  constructor(readonly base: string) {}

  cookieHeader(path: string): string {
    return [...this.jar]
      .filter(([, c]) => path.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  async request(path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    const cookie = options.cookie ?? this.cookieHeader(path);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(this.base + path, { method: options.method ?? 'GET', headers, redirect: 'manual' });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const setCookies = res.headers.getSetCookie().map(parseSetCookie);
    for (const c of setCookies) {
      const cookiePath = typeof c.attributes.path === 'string' ? c.attributes.path : '/';
      if (c.expired || c.value === '') this.jar.delete(c.name);
      else this.jar.set(c.name, { value: c.value, path: cookiePath });
    }
    return { status: res.status, text, body, headers: res.headers, setCookies };
  }

  get(path: string, options?: RequestOptions): Promise<Reply> {
    return this.request(path, options);
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name)?.value;
  }
}
