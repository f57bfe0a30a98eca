/**
 * The load of a chaos run: browsers (cookie jars, test/helpers/http.ts `Client`), each sending
 * `/get` (count up, answer the count) one request after the other, and a log of every exchange
 * with its times on the run's clock. Nothing is retried: a failed request is logged and the browser
 * goes on with the next one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../../helpers/http.js';
import { REQUEST_TIMEOUT } from './config.js';

/** The session cookie's name and the store key prefix, the same in both libraries. */
const COOKIE = 'koa.sid';
const PREFIX = 'koa:sess:';

/** ms on the run's clock (0: the start of the load). */
export type Clock = () => number;

export interface Exchange {
  sent: number;
  answered: number;
  status: number;
  /** The count a 200 answered. */
  count?: number;
  /** Why no answer came (a network error, or the harness's timeout). */
  error?: string;
}

export class Browser {
  readonly client: Client;
  readonly log: Exchange[] = [];
  /** What `/read` answered once the load stopped: the count the store holds. */
  final: number | undefined;
  finalError: string | undefined;

  constructor(
    url: string,
    readonly name: string,
  ) {
    this.client = new Client(url);
  }

  /** The store key of this browser's session, once it has one. */
  get key(): string | undefined {
    const sid = this.client.cookie(COOKIE);
    return sid === undefined ? undefined : PREFIX + sid;
  }

  /** One `/get`, logged. */
  async count(clock: Clock): Promise<Exchange> {
    const sent = clock();
    let exchange: Exchange;
    try {
      const reply = await this.client.get('/get', { signal: AbortSignal.timeout(REQUEST_TIMEOUT) });
      const count = reply.status === 200 ? (reply.body as { count?: unknown } | undefined)?.count : undefined;
      exchange = { sent, answered: clock(), status: reply.status, ...(typeof count === 'number' ? { count } : {}) };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      exchange = { sent, answered: clock(), status: 0, error: cause ?? (err as Error).name };
    }
    this.log.push(exchange);
    return exchange;
  }

  /** Requests one after the other, `think` ms apart, until `stop()` says so. */
  async run(clock: Clock, think: number, stop: () => boolean): Promise<void> {
    while (!stop()) {
      await this.count(clock);
      if (think > 0) await sleep(think);
    }
  }

  /** Reads the count the store holds now (`/read`), once. */
  async readFinal(): Promise<void> {
    try {
      const reply = await this.client.get('/read', { signal: AbortSignal.timeout(REQUEST_TIMEOUT) });
      const count = (reply.body as { count?: unknown } | undefined)?.count;
      if (reply.status === 200 && typeof count === 'number') this.final = count;
      else this.finalError = `/read answered ${reply.status} ${reply.text.slice(0, 80)}`;
    } catch (err) {
      this.finalError = `/read failed: ${(err as Error).message}`;
    }
  }
}
