/**
 * Turns per key, first come first served: the in-process half of session locking. The
 * MemoryStore's lock is only this; the RedisStore queues its own requests here so that one of them
 * at a time contends for the lock in Redis, and the next is woken when it is released instead of
 * polling for it.
 */
export class KeyedQueue {
  /** Keys with a turn in progress, each with the callers waiting for theirs. */
  private readonly waiting = new Map<string, (() => void)[]>();

  /** `true` at once when `key` is free; else a Promise of `true` when the turn comes, `false` after `wait` ms. */
  enter(key: string, wait: number): true | Promise<boolean> {
    const queue = this.waiting.get(key);
    if (queue === undefined) {
      this.waiting.set(key, []);
      return true;
    }
    return new Promise((resolve) => {
      const turn = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = queue.indexOf(turn);
        if (i >= 0) queue.splice(i, 1);
        resolve(false);
      }, wait);
      queue.push(turn);
    });
  }

  /** Ends the turn in progress for `key`: the next caller's begins. */
  leave(key: string): void {
    const next = this.waiting.get(key)?.shift();
    if (next) next();
    else this.waiting.delete(key);
  }
}
