/**
 * Errors a store raises where no one awaits them: an unhandled rejection (a constructor that starts
 * a Promise without a catch) or an uncaught exception (an 'error' event without a listener). While
 * a watch is open they never end the process; each is handed to the check running when it arrived,
 * which fails with it, or, raised between two checks, to the next one.
 */
import { errorText } from './failure.js';

interface Raised {
  error: unknown;
  kind: 'an unhandled rejection' | 'an uncaught exception';
}

type Sink = (raised: Raised) => void;

/** The checks running now, the latest last: an error goes to the latest. */
const sinks: Sink[] = [];
let strays: Raised[] = [];
let watches = 0;

const onRejection = (error: unknown) => deliver({ error, kind: 'an unhandled rejection' });
const onException = (error: unknown) => deliver({ error, kind: 'an uncaught exception' });

function deliver(raised: Raised): void {
  const sink = sinks.at(-1);
  if (sink) sink(raised);
  else strays.push(raised);
}

/** The failure of a check during which the store raised an error no call returned. */
export class StoreRaised extends Error {
  constructor(raised: Raised, when: string) {
    super(`the store raised ${raised.kind} ${when}: ${errorText(raised.error)}`, { cause: raised.error });
    this.name = 'StoreRaised';
  }
}

/** Watches the process for errors a store raises, from `open()` until `close()`. */
export class StoreErrorWatch {
  private closed = false;

  private constructor() {}

  static open(): StoreErrorWatch {
    if (watches++ === 0) {
      process.on('unhandledRejection', onRejection);
      process.on('uncaughtException', onException);
    }
    return new StoreErrorWatch();
  }

  /**
   * Runs `check`, and rejects with the first error the store raised meanwhile (or before, between
   * two checks), once `check` has settled; otherwise settles as `check` does.
   */
  async during<T>(check: () => Promise<T>): Promise<T> {
    let raised: StoreRaised | undefined;
    const earlier = strays.shift();
    if (earlier) raised = new StoreRaised(earlier, 'between two checks (reported with the next)');
    strays = [];
    const sink: Sink = (r) => {
      raised ??= new StoreRaised(r, 'during this check');
    };
    sinks.push(sink);
    try {
      const value = await check();
      if (raised) throw raised;
      return value;
    } catch (err) {
      throw raised ?? err;
    } finally {
      sinks.splice(sinks.indexOf(sink), 1);
    }
  }

  /** Errors raised after the last check ended, which no check reported. */
  unreported(): StoreRaised[] {
    const found = strays.map((r) => new StoreRaised(r, 'after the last check'));
    strays = [];
    return found;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (--watches === 0) {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    }
  }
}
