/**
 * The RedisStore on node-redis (`redis` 4 or 5): a client of `createClient` or a cluster of
 * `createCluster`, always the app's (the store never creates one, so node-redis is never loaded
 * here). Commands go through `sendCommand`, the same in both versions. node-redis already
 * pipelines: commands issued in the same tick leave in one socket write (4 corks the socket until
 * `setImmediate`, 5 writes its queue in a `setImmediate`).
 *
 * Lifecycle of a client: `ready` is `connect`; a lost connection shows first as `error` (with
 * `isReady` already false), then `reconnecting`; `end` when the app closes it. Without an `error`
 * listener node-redis' errors throw: the store always listens while it watches the client.
 *
 * A cluster keeps one client per node and reports none of their connections as its own (4 emits
 * no lifecycle events at all, 5 `connect` and `disconnect` when it is opened and closed): it is
 * taken as connected while it is open. A node's outage shows as commands that fail or go
 * unanswered, which the middleware bounds by `storeTimeout` (as ioredis' Cluster does).
 */
import {
  END_TIMEOUT,
  listen,
  QUIT_TIMEOUT,
  within,
  type ConnectionEvents,
  type Listener,
  type RedisConnection,
} from './connection.js';

/** What node-redis 4 and 5 clients and clusters share. Structural: no node-redis types needed. */
interface NodeRedisCommon {
  /** Whether it was connected and not closed since (it may be reconnecting). */
  readonly isOpen: boolean;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
  /** 4: closes at once, rejecting what is pending; 5: deprecated, the same as `destroy`. */
  disconnect(): Promise<void>;
  /** 5: closes at once, rejecting what is pending. */
  destroy?(): void;
}

/** The part of a node-redis client (`createClient()`) the store uses. */
export interface NodeRedisClient extends NodeRedisCommon {
  readonly isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
}

/** The part of a node-redis cluster (`createCluster()`) the store uses. */
export interface NodeRedisCluster extends NodeRedisCommon {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  /** The master nodes, each with the client of its connection once it has one. */
  readonly masters: readonly { client?: unknown }[];
}

function isNodeRedisCommon(value: Record<string, unknown>): boolean {
  return (
    typeof value.isOpen === 'boolean' &&
    ['sendCommand', 'on', 'off', 'disconnect'].every((m) => typeof value[m] === 'function')
  );
}

/** Duck-typed, like ioredis' clients: the app's node-redis may be another copy or version. */
export function isNodeRedisClient(value: Record<string, unknown>): value is Record<string, unknown> & NodeRedisClient {
  return isNodeRedisCommon(value) && typeof value.isReady === 'boolean';
}

export function isNodeRedisCluster(
  value: Record<string, unknown>,
): value is Record<string, unknown> & NodeRedisCluster {
  return isNodeRedisCommon(value) && value.isReady === undefined && Array.isArray(value.masters);
}

abstract class NodeRedisConnection<C extends NodeRedisCommon> implements RedisConnection {
  /** The store's commands awaiting their replies, which closing lets arrive first. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(protected readonly client: C) {}

  abstract get ready(): boolean;
  protected abstract sendCommand(key: string, args: string[]): Promise<unknown>;
  protected abstract lifecycle(events: ConnectionEvents): [string, Listener][];

  send(key: string, args: string[]): Promise<unknown> {
    const reply = this.sendCommand(key, args);
    this.inFlight.add(reply);
    const settled = () => this.inFlight.delete(reply);
    reply.then(settled, settled);
    return reply;
  }

  watch(events: ConnectionEvents): () => void {
    // The error listener is first: it is what keeps a lost connection from throwing.
    return listen(this.client, [['error', (err: unknown) => events.error(err)], ...this.lifecycle(events)]);
  }

  /**
   * Lets the store's pending replies arrive, then destroys the connection. node-redis' own gentle
   * ends (`quit`, `close`) have no bound, and once begun they leave nothing to cut the connection
   * with; `destroy` is immediate.
   */
  async close(): Promise<void> {
    if (this.ready) await within(Promise.allSettled(this.inFlight), QUIT_TIMEOUT);
    const client = this.client;
    if (!client.isOpen) return;
    // 5 destroys at once; 4's `disconnect` also drains its pool of isolated clients first.
    if (client.destroy) client.destroy();
    else
      await within(
        client.disconnect().catch(() => undefined),
        END_TIMEOUT,
      );
  }
}

export class NodeRedisClientConnection extends NodeRedisConnection<NodeRedisClient> {
  get ready(): boolean {
    return this.client.isReady;
  }

  protected sendCommand(_key: string, args: string[]): Promise<unknown> {
    return this.client.sendCommand(args);
  }

  protected lifecycle(events: ConnectionEvents): [string, Listener][] {
    return [
      ['ready', () => events.connect()],
      // The first sign of a lost connection: node-redis marks the client not ready, then emits it.
      ['error', () => this.client.isReady || events.disconnect()],
      ['reconnecting', () => events.disconnect()],
      ['end', () => events.disconnect()],
    ];
  }
}

export class NodeRedisClusterConnection extends NodeRedisConnection<NodeRedisCluster> {
  get ready(): boolean {
    return this.client.isOpen;
  }

  protected sendCommand(key: string, args: string[]): Promise<unknown> {
    // Reads go to the master too (as writes do): a replica may not have the session just written.
    return this.client.sendCommand(key, false, args);
  }

  protected lifecycle(events: ConnectionEvents): [string, Listener][] {
    return [
      ['connect', () => events.connect()],
      ['disconnect', () => events.disconnect()],
      // node-redis 5 reports each node's connection; 4 reports none.
      ['node-error', () => this.rediscover()],
      ['node-reconnecting', () => this.rediscover()],
    ];
  }

  private rediscovering = false;
  private lastRediscovery = 0;

  /**
   * node-redis (5) learns a new slot map only from a MOVED or ASK reply: after a master dies and its
   * replica is promoted, its slots stay with the dead node's client, which reconnects for ever, and
   * those sessions stay out of reach. While a node's connection fails, the slot map is asked for
   * again (at most every 250 ms, through the cluster's own rediscovery, from a node that is up),
   * until the dead node is no longer in it and its client is closed.
   */
  private rediscover(): void {
    const slots = (this.client as unknown as { _slots?: { rediscover?: (from: unknown) => Promise<unknown> } })._slots;
    if (
      typeof slots?.rediscover !== 'function' ||
      this.rediscovering ||
      Date.now() - this.lastRediscovery < REDISCOVERY_PAUSE
    )
      return;
    const live = this.client.masters.find(
      (node) => (node.client as { isReady?: boolean } | undefined)?.isReady === true,
    )?.client;
    if (live === undefined) return;
    this.rediscovering = true;
    this.lastRediscovery = Date.now();
    slots
      .rediscover(live)
      .catch(() => undefined)
      .finally(() => (this.rediscovering = false));
  }
}

/** The least time between two rediscoveries of a node-redis cluster's slot map. */
const REDISCOVERY_PAUSE = 250;
