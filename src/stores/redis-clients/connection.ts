/**
 * What the RedisStore needs from a Redis client, whichever library the app has: one command at a
 * time (the store builds each command itself, so every client kind runs the same commands), whether
 * the client is ready, its lifecycle as `connect` / `disconnect`, and a bounded close. Each client
 * library has an adapter in this folder; the store never sees the library.
 */

/** The client's lifecycle, as the store reports it. */
export interface ConnectionEvents {
  /** The client is ready for commands (again). */
  connect(): void;
  /** The client lost its connection (called on every sign of it; the store reports the first). */
  disconnect(): void;
  /** An error the client emitted. */
  error(err: unknown): void;
}

export interface RedisConnection {
  /** Whether commands go straight to Redis now. */
  readonly ready: boolean;
  /**
   * Sends `args` (a command and its arguments, all strings) and resolves with Redis' raw reply.
   * `key` is the command's key: a Cluster sends the command to the master that holds it.
   */
  send(key: string, args: string[]): Promise<unknown>;
  /** Starts passing the client's lifecycle to `events`; the function returned stops it. */
  watch(events: ConnectionEvents): () => void;
  /**
   * Closes the client's connection: pending replies first, unless Redis does not answer within
   * {@link QUIT_TIMEOUT}; then the connection is cut. Resolves within about 4 s in every case.
   */
  close(): Promise<void>;
}

/** A listener of a client's events, as both libraries' `on` takes it. */
export type Listener = (...args: any[]) => void;

/** Adds each `[event, listener]` to `client`; the function returned removes them again. */
export function listen(
  client: { on(event: string, listener: Listener): unknown; off(event: string, listener: Listener): unknown },
  listeners: readonly (readonly [string, Listener])[],
): () => void {
  for (const [event, listener] of listeners) client.on(event, listener);
  return () => {
    for (const [event, listener] of listeners) client.off(event, listener);
  };
}

/** How long closing waits for pending replies before it cuts the connection. */
export const QUIT_TIMEOUT = 1_000;
/** How long closing then waits for the connection to end (ioredis destroys it after 2 s). */
export const END_TIMEOUT = 3_000;

/** `promise`'s value, or `undefined` when it takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
