/**
 * Real HTTP for tests: an app listening on 127.0.0.1 on a free port, and a client with a small
 * cookie jar that behaves like a browser for what the tests need (set, overwrite, expire, path).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// Set-Cookie parsing is the conformance kit's: these tests read cookies as store authors' do.
import { parseSetCookie, type Callable, type SetCookie } from '../../src/testing/http.js';

export { parseSetCookie, type Callable, type SetCookie };

export interface Listening {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function listen(app: Callable): Promise<Listening> {
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
  /** The request body; its content-type goes in `headers`. */
  body?: string;
  /** Aborts the request (e.g. `AbortSignal.timeout(ms)`): it rejects, and the jar stays as it was. */
  signal?: AbortSignal;
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
    const res = await fetch(this.base + path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body,
      redirect: 'manual',
      signal: options.signal,
    });
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
