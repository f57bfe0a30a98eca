/**
 * Which errors count as connection failures, per Redis client: the table of
 * src/stores/connection-failures.ts, entry by entry. Each test makes a real redis-server (or its
 * socket) produce the error, through the client that reports it (ioredis 6, 5 and koa-redis's 4;
 * node-redis 5 and 4), and checks both that it is the entry meant (its class, message or code) and
 * that `isConnectionFailure` takes it for a connection failure. Errors about the data, from the same
 * servers, are not. What the middleware does with a connection failure is in
 * while-the-store-is-away.test.ts and redis-server-faults.test.ts.
 *
 * Servers are this file's own (killed, frozen, replicas, cluster nodes) on loopback ports; every
 * client and server is closed after its test.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import { createClient, createCluster } from 'redis';
import { createClient as createClient4, createCluster as createCluster4 } from 'redis4';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { isConnectionFailure } from '../../src/stores/connection-failures.js';
import { commandsArrived, frozen, queuesAt } from '../helpers/kernel.js';
import { disposeNode, spawnRedisNode, type RedisNode } from '../helpers/redis-cluster.js';
import {
  freePort,
  redisServerArgs,
  SLOW_LOADING_ARGS,
  startRedisServer,
  type RedisServer,
} from '../helpers/redis-server.js';
import { killProcess } from '../helpers/stop-process.js';
import { waitUntil } from '../helpers/wait-until.js';

/** koa-redis's own ioredis (4.x): the client koa-generic-session apps have. */
const Redis4 = createRequire(import.meta.url)('koa-redis/node_modules/ioredis') as typeof Redis;

const redisUrl = inject('redisUrl');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await (async () => cleanup())().catch(() => undefined);
});

async function server(args?: readonly string[]): Promise<RedisServer> {
  const started = await startRedisServer({ args });
  cleanups.push(() => started.dispose());
  return started;
}

/**
 * A node-redis 5 and a node-redis 4 client of a server of their own, each with a SET that Redis has
 * read and not run (writes are paused), and the ioredis client that paused them.
 */
async function nodeRedisWritesOnTheWire() {
  const redis = await server();
  const control = track(new Redis(redis.url));
  const client5 = track(createClient({ url: redis.url }));
  const client4 = track(createClient4({ url: redis.url }));
  await Promise.all([client5.connect(), client4.connect()]);
  await control.client('PAUSE', 10_000, 'WRITE');
  const pending = [rejection(client5.set('k', '5')), rejection(client4.set('k', '4'))];
  await commandRead(control, 'set', 2);
  return { control, client5, client4, pending };
}

/** A redis-server with arguments of its own (a replica, a cluster node). */
async function node(label: string, args: string[]): Promise<RedisNode> {
  const started = await spawnRedisNode((port, dir) => [...redisServerArgs(port, dir), ...args], label);
  cleanups.push(() => disposeNode(started));
  return started;
}

interface AnyClient {
  on(event: 'error', listener: (err: unknown) => void): unknown;
}

/** A client of any library, closed after the test whatever its state then. */
function track<T extends AnyClient>(client: T): T {
  // Without a listener, a lost connection's error would be thrown (node-redis) or logged (ioredis).
  client.on('error', () => undefined);
  cleanups.push(() => {
    const closable = client as { destroy?: () => void; disconnect?: () => unknown };
    // node-redis 5 is destroyed; ioredis and node-redis 4 are disconnected.
    return closable.destroy ? closable.destroy() : closable.disconnect?.();
  });
  return client;
}

/** What `promise` rejected with; a test failure when it resolves instead. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (err) {
    return err;
  }
}

/** The next `error` event of an emitter. */
function nextError(emitter: { once(event: 'error', listener: (err: unknown) => void): unknown }): Promise<unknown> {
  return new Promise((resolve) => emitter.once('error', resolve));
}

function className(err: unknown): string | undefined {
  return (err as { constructor?: { name?: string } } | null)?.constructor?.name;
}

/**
 * Sends a command to a frozen server and, once it has arrived there unread, kills the server: the
 * command was on the wire when the connection died.
 */
async function killedWithCommandOnTheWire(redis: RedisServer, send: () => Promise<unknown>): Promise<unknown> {
  await frozen(redis);
  const failed = rejection(send());
  await commandsArrived(redis.port);
  await killProcess(redis.process);
  return failed;
}

/** The accept queue's length the unreachable server listens with. */
const BACKLOG = 1;

/**
 * A frozen server whose accept queue is full: a new connection's handshake never completes, so a
 * client's connect times out.
 */
async function unreachable(): Promise<RedisServer> {
  const redis = await server(['--tcp-backlog', String(BACKLOG)]);
  await frozen(redis);
  // For a listening socket the kernel reports the connections waiting to be accepted as rx; the
  // queue is full once they outnumber the backlog. Until then each connection completes and waits.
  for (;;) {
    const [queue] = queuesAt(redis.port, 'LISTEN');
    if (queue === undefined) throw new Error(`nothing listens on ${redis.port}`);
    if (queue.rx > BACKLOG) return redis;
    const filler: Socket = connect(redis.port, '127.0.0.1');
    cleanups.push(() => filler.destroy());
    filler.on('error', () => undefined);
    await once(filler, 'connect');
  }
}

/** The waiting client's CLIENT LIST line shows the command Redis read but has not run yet. */
async function commandRead(control: Redis, command: string, count: number): Promise<void> {
  await waitUntil(
    async () =>
      ((await control.client('LIST')) as string).split('\n').filter((l) => l.includes(` cmd=${command} `)).length >=
      count,
    5_000,
    () => `Redis never read ${count} × ${command}`,
  );
}

const clusterArgs = [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-require-full-coverage',
  'no',
];

describe.skipIf(!redisUrl)('connection failures, each produced by a real redis-server', () => {
  describe('ioredis', () => {
    it.each([
      ['ioredis 6', Redis],
      ['ioredis 5', Redis5 as unknown as typeof Redis],
      ["koa-redis's ioredis 4", Redis4],
    ])('%s: MaxRetriesPerRequestError, a command on the wire when the server dies', async (_name, Client) => {
      const redis = await server();
      const client = track(new Client(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 20 }));
      await client.set('k', 'v');
      const err = await killedWithCommandOnTheWire(redis, () => client.get('k'));
      expect((err as Error).name).toBe('MaxRetriesPerRequestError');
      expect(isConnectionFailure(err)).toBe(true);
    });

    it('"Connection is closed.": a command on the wire when the server dies, without reconnecting', async () => {
      const redis = await server();
      const client = track(new Redis(redis.url, { retryStrategy: () => null }));
      await client.ping();
      const err = await killedWithCommandOnTheWire(redis, () => client.get('k'));
      expect((err as Error).message).toBe('Connection is closed.');
      expect(isConnectionFailure(err)).toBe(true);
    });

    it('"Stream isn\'t writeable …": a command while the server is down, without an offline queue', async () => {
      const redis = await server();
      const client = track(new Redis(redis.url, { enableOfflineQueue: false, retryStrategy: () => 1_000 }));
      await once(client, 'ready');
      const closed = once(client, 'close');
      await redis.stop();
      await closed;
      const err = await rejection(client.get('k'));
      expect((err as Error).message).toBe("Stream isn't writeable and enableOfflineQueue options is false");
      expect(isConnectionFailure(err)).toBe(true);
    });

    it('ClusterAllFailedError and "None of startup nodes is available": a Cluster whose node is gone', async () => {
      const cluster = await node('cluster-gone', clusterArgs);
      const port = cluster.port;
      await disposeNode(cluster);
      const client = track(new Cluster([{ host: '127.0.0.1', port }], { clusterRetryStrategy: () => null }));
      const [event, command] = await Promise.all([nextError(client), rejection(client.get('k'))]);
      expect((event as Error).name).toBe('ClusterAllFailedError');
      expect(isConnectionFailure(event)).toBe(true);
      expect((command as Error).message).toBe('None of startup nodes is available');
      expect(isConnectionFailure(command)).toBe(true);
    });

    it('"Cluster isn\'t ready …": a Cluster command before it is ready, without an offline queue', async () => {
      const cluster = await node('cluster-starting', clusterArgs);
      const client = track(new Cluster([{ host: '127.0.0.1', port: cluster.port }], { enableOfflineQueue: false }));
      const err = await rejection(client.get('k'));
      expect((err as Error).message).toBe("Cluster isn't ready and enableOfflineQueue options is false");
      expect(isConnectionFailure(err)).toBe(true);
    });

    it('ETIMEDOUT: the connect timeout', async () => {
      const redis = await unreachable();
      const client = track(new Redis(redis.url, { connectTimeout: 100, retryStrategy: () => null, lazyConnect: true }));
      const [event] = await Promise.all([nextError(client), rejection(client.connect())]);
      expect((event as NodeJS.ErrnoException).code).toBe('ETIMEDOUT');
      expect(isConnectionFailure(event)).toBe(true);
    });
  });

  describe('node-redis', () => {
    it.each([
      ['node-redis 5', createClient],
      ['node-redis 4', createClient4 as unknown as typeof createClient],
    ])('%s: ECONNRESET, a command on the wire when the server is killed', async (_name, create) => {
      const redis = await server();
      const client = track(create({ url: redis.url }));
      await client.connect();
      const err = await killedWithCommandOnTheWire(redis, () => client.get('k'));
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
      expect(isConnectionFailure(err)).toBe(true);
    });

    it('SocketClosedUnexpectedlyError: the connection closed by the server with a command on it (node-redis 5 and 4)', async () => {
      const { control, pending } = await nodeRedisWritesOnTheWire();
      await control.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await control.client('UNPAUSE');
      for (const err of await Promise.all(pending)) {
        expect(className(err)).toBe('SocketClosedUnexpectedlyError');
        expect(isConnectionFailure(err)).toBe(true);
      }
    });

    it('ECONNREFUSED: connecting to a server that is down', async () => {
      const redis = await server();
      await redis.stop();
      const client = track(createClient({ url: redis.url, socket: { reconnectStrategy: false } }));
      const err = await rejection(client.connect());
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      expect(isConnectionFailure(err)).toBe(true);
      // A store that wraps it is understood too.
      expect(isConnectionFailure(new Error('the store failed', { cause: err }))).toBe(true);
    });

    it('ReconnectStrategyError: the reconnect strategy gives up (node-redis 5 and 4)', async () => {
      const redis = await server();
      await redis.stop();
      const giveUp = () => new Error('no more attempts');
      for (const client of [
        track(createClient({ url: redis.url, socket: { reconnectStrategy: giveUp } })),
        track(createClient4({ url: redis.url, socket: { reconnectStrategy: giveUp } })),
      ]) {
        const err = await rejection(client.connect());
        expect(className(err)).toBe('ReconnectStrategyError');
        expect(isConnectionFailure(err)).toBe(true);
      }
    });

    it('ConnectionTimeoutError: the connect timeout (node-redis 5 and 4)', async () => {
      const redis = await unreachable();
      const socket = { connectTimeout: 100, reconnectStrategy: false as const };
      for (const client of [
        track(createClient({ url: redis.url, socket })),
        track(createClient4({ url: redis.url, socket })),
      ]) {
        const err = await rejection(client.connect());
        expect(className(err)).toBe('ConnectionTimeoutError');
        expect(isConnectionFailure(err)).toBe(true);
      }
    });

    it('ClientOfflineError: a command while the server is down, without an offline queue (node-redis 5 and 4)', async () => {
      const redis = await server();
      const clients = [
        track(createClient({ url: redis.url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 1_000 } })),
        track(createClient4({ url: redis.url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 1_000 } })),
      ];
      await Promise.all(clients.map((c) => c.connect()));
      // Not events.once, which would reject on the 'error' that comes first.
      const lost = clients.map((c) => new Promise((resolve) => c.once('reconnecting', resolve)));
      await redis.stop();
      await Promise.all(lost);
      for (const client of clients) {
        const err = await rejection(client.get('k'));
        expect(className(err)).toBe('ClientOfflineError');
        expect(isConnectionFailure(err)).toBe(true);
      }
    });

    it('SocketTimeoutError: no answer within the socket timeout (node-redis 5)', async () => {
      const redis = await server();
      const client = track(createClient({ url: redis.url, socket: { socketTimeout: 100, reconnectStrategy: false } }));
      await client.connect();
      await frozen(redis);
      const err = await rejection(client.get('k'));
      expect(className(err)).toBe('SocketTimeoutError');
      expect(isConnectionFailure(err)).toBe(true);
    });

    it('DisconnectsClientError: the client closed with a command on the wire (node-redis 5 and 4)', async () => {
      const { control, client5, client4, pending } = await nodeRedisWritesOnTheWire();
      client5.destroy();
      await client4.disconnect();
      await control.client('UNPAUSE');
      for (const err of await Promise.all(pending)) {
        expect(className(err)).toBe('DisconnectsClientError');
        expect(isConnectionFailure(err)).toBe(true);
      }
    });

    it('ClientClosedError: a command on a closed client (node-redis 5 and 4)', async () => {
      const redis = await server();
      const client5 = track(createClient({ url: redis.url }));
      const client4 = track(createClient4({ url: redis.url }));
      await Promise.all([client5.connect(), client4.connect()]);
      client5.destroy();
      await client4.disconnect();
      for (const err of [await rejection(client5.get('k')), await rejection(client4.get('k'))]) {
        expect(className(err)).toBe('ClientClosedError');
        expect(isConnectionFailure(err)).toBe(true);
      }
    });

    it('RootNodesUnavailableError: a Cluster whose root node is gone (node-redis 5 and 4)', async () => {
      const cluster = await node('cluster-root-gone', clusterArgs);
      const url = `redis://127.0.0.1:${cluster.port}`;
      await disposeNode(cluster);
      const defaults = { socket: { reconnectStrategy: false as const } };
      for (const client of [
        track(createCluster({ rootNodes: [{ url }], defaults })),
        track(createCluster4({ rootNodes: [{ url }], defaults })),
      ]) {
        const err = await rejection(client.connect());
        expect(className(err)).toBe('RootNodesUnavailableError');
        expect(isConnectionFailure(err)).toBe(true);
      }
    });
  });

  it('EPIPE: writing on a connection Redis has closed', async () => {
    const redis = await server();
    const socket = connect({ port: redis.port, host: '127.0.0.1', allowHalfOpen: true });
    cleanups.push(() => socket.destroy());
    socket.resume();
    const failed = nextError(socket);
    socket.write('QUIT\r\n');
    await once(socket, 'end');
    // The first write after Redis closed its end is answered with a reset; a later one fails.
    const write = () => socket.write('PING\r\n', (err) => void (err ? undefined : setImmediate(write)));
    write();
    const err = await failed;
    expect((err as NodeJS.ErrnoException).code).toBe('EPIPE');
    expect(isConnectionFailure(err)).toBe(true);
  });

  describe('replies of a server that cannot serve now', () => {
    it('LOADING: a restarted server still loading its dataset (ioredis without ready check, node-redis 5)', async () => {
      // With 20 000 keys it says LOADING for seconds.
      const redis = await server(SLOW_LOADING_ARGS);
      const control = new Redis(redis.url);
      await control.call('DEBUG', 'POPULATE', '20000');
      await control.save();
      control.disconnect();
      await redis.stop();
      await redis.restart();
      const io = track(new Redis(redis.url, { enableReadyCheck: false }));
      const client = track(createClient({ url: redis.url }));
      await client.connect();
      for (const err of [await rejection(io.get('key:1')), await rejection(client.get('key:1'))]) {
        expect((err as Error).message).toMatch(/^LOADING /);
        expect(isConnectionFailure(err)).toBe(true);
      }
    }, 30_000);

    it('READONLY: a write on a replica (a master demoted by a failover)', async () => {
      const master = await server();
      const replica = await node('replica', ['--replicaof', '127.0.0.1', String(master.port)]);
      const io = track(new Redis(replica.port, '127.0.0.1'));
      const client = track(createClient({ url: `redis://127.0.0.1:${replica.port}` }));
      await client.connect();
      for (const err of [await rejection(io.set('k', 'v')), await rejection(client.set('k', 'v'))]) {
        expect((err as Error).message).toMatch(/^READONLY /);
        expect(isConnectionFailure(err)).toBe(true);
      }
    });

    it('MASTERDOWN: a replica cut off from its master that must not serve stale data', async () => {
      const nobody = await freePort();
      const replica = await node('stale-replica', [
        '--replicaof',
        '127.0.0.1',
        String(nobody),
        '--replica-serve-stale-data',
        'no',
      ]);
      const io = track(new Redis(replica.port, '127.0.0.1'));
      const err = await rejection(io.get('k'));
      expect((err as Error).message).toMatch(/^MASTERDOWN /);
      expect(isConnectionFailure(err)).toBe(true);
    });

    it('CLUSTERDOWN: a cluster node that serves no slot', async () => {
      const cluster = await node('cluster-empty', clusterArgs);
      const io = track(new Redis(cluster.port, '127.0.0.1'));
      const err = await rejection(io.get('k'));
      expect((err as Error).message).toMatch(/^CLUSTERDOWN /);
      expect(isConnectionFailure(err)).toBe(true);
    });

    it('TRYAGAIN: a multi-key command on a slot being migrated, some keys already gone', async () => {
      const [a, b] = [await node('cluster-a', clusterArgs), await node('cluster-b', clusterArgs)];
      const source = track(new Redis(a.port, '127.0.0.1'));
      const target = track(new Redis(b.port, '127.0.0.1'));
      const slot = Number(await source.cluster('KEYSLOT', '{t}'));
      await source.cluster('ADDSLOTS', slot);
      await source.cluster('MEET', '127.0.0.1', b.port);
      const targetId = String(await target.cluster('MYID'));
      await waitUntil(
        async () =>
          String(await source.cluster('NODES')).includes(targetId) &&
          /cluster_state:ok/.test(String(await source.cluster('INFO'))),
        15_000,
        () => 'the two nodes never met',
      );
      await source.set('{t}a', '1');
      await source.cluster('SETSLOT', slot, 'MIGRATING', targetId);
      const err = await rejection(source.mget('{t}a', '{t}b'));
      expect((err as Error).message).toMatch(/^TRYAGAIN /);
      expect(isConnectionFailure(err)).toBe(true);
    }, 30_000);
  });
});

describe('errors about the data are not connection failures', () => {
  it.skipIf(!redisUrl)('WRONGTYPE, a syntax error, and a value that is not JSON, from the same server', async () => {
    const redis = await server();
    const io = track(new Redis(redis.url));
    await io.rpush('list', 'x');
    const wrongType = await rejection(io.get('list'));
    expect((wrongType as Error).message).toMatch(/^WRONGTYPE /);
    const syntax = await rejection(io.call('SET', 'k', 'v', 'NOPE'));
    expect((syntax as Error).message).toMatch(/^ERR /);
    await io.set('k', '{not json');
    const parse = await rejection(Promise.resolve(io.get('k')).then((json) => JSON.parse(json!)));
    for (const err of [wrongType, syntax, parse]) expect(isConnectionFailure(err)).toBe(false);
  });

  it('plain errors, and values that are not errors', () => {
    for (const value of [
      new Error('boom'),
      new TypeError('x is not a function'),
      'ECONNRESET',
      null,
      undefined,
      42,
      {},
    ]) {
      expect(isConnectionFailure(value)).toBe(false);
    }
  });
});

describe('ioredis Cluster giving up after its redirections', () => {
  // Seen in the chaos suite when a master holding sessions was killed; ioredis keeps only the text
  // of the last error, so this entry is checked on that text (ioredis' own format, cluster/index.js).
  it('is a connection failure whatever the last error was: the cluster is between two slot maps', () => {
    const gaveUp = (last: string) => new Error(`Too many Cluster redirections. Last error: ${last}`);
    expect(isConnectionFailure(gaveUp('Error: Connection is closed.'))).toBe(true);
    expect(isConnectionFailure(gaveUp('ReplyError: MOVED 14456 127.0.0.1:34423'))).toBe(true);
    expect(isConnectionFailure(gaveUp('ReplyError: CLUSTERDOWN The cluster is down'))).toBe(true);
    expect(
      isConnectionFailure(new Error('ReplyError: MOVED 14456 127.0.0.1:34423 Too many Cluster redirections.')),
    ).toBe(false);
  });
});
