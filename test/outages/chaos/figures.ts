/**
 * What a chaos run shows, per app, from the browsers' logs and the counts the store holds at the
 * end: the statuses, the 503 window, the longest wait, the time to recover, and the writes that were
 * acknowledged and lost or applied without being acknowledged. And the chaos checks, each
 * failure as a sentence.
 *
 * Counting writes. Each browser sends one request after the other, so the counts its 200s answered
 * must go up by exactly one each time, and the store must end on the last one. Between two 200s:
 * - a count that does not go up means acknowledged increments were lost (as many as it fell short);
 * - a count that jumps by more than one means increments were applied that the browser was never
 *   told about: the writes of requests that failed after sending them (their outcome was unknown).
 *   There can be at most as many as there were such requests between the two 200s.
 * The same holds from the last 200 to the count the store holds at the end.
 */
import type { Browser, Exchange } from './browsers.js';

/** What the fault injection observed, on the run's clock. */
export interface FaultReport {
  /** When the fault was injected (just before the signal was sent). */
  start: number;
  /** When it was over: the server listening again, thawed, done loading, or a replica promoted. */
  end: number;
  /** Whether a failed request may have sent its write (the default: every failed request may have). */
  mayHaveWritten?: (exchange: Exchange) => boolean;
  /**
   * After a failover: the count the promoted replica held for each session key of the killed
   * master when it lost its master. Redis replicates asynchronously: an acknowledged increment the
   * replica had not received is lost by Redis, not by the session library, and is allowed.
   */
  replicated?: Map<string, number>;
  /** Facts about the fault for the report (e.g. how long Redis was loading). */
  notes: Record<string, number | string>;
}

export interface BrowserFigures {
  acknowledged: number;
  final: number | undefined;
  lost: number;
  /** Lost increments that Redis's failover accounts for (see `FaultReport.replicated`). */
  lostAllowed: number;
  /** Increments applied without a 200 for them. */
  unacknowledged: number;
  /** …more of them than there were requests whose outcome was unknown. */
  unexplained: number;
  /** Failed requests that may have sent their write. */
  unknown: number;
}

export interface AppFigures {
  variant: string;
  browsers: number;
  requests: number;
  /** Requests per status; 0 counts requests without an answer. */
  statuses: Record<string, number>;
  /** Why requests got no answer, and how often. */
  networkErrors: Record<string, number>;
  /** The first and the last 503, in ms after the fault was injected (by when they were answered). */
  window503: { from: number; to: number } | undefined;
  /** The longest time a request took, in ms. */
  longestWait: number;
  acknowledged: number;
  lost: number;
  lostAllowed: number;
  unacknowledged: number;
  unexplained: number;
  /**
   * Writes that reached Redis after a newer write of their session and were dropped, from the app's
   * `fenced` notices (late writes of failed requests: applied, each would have lost increments).
   */
  fenced: number;
  /**
   * ms from the end of the fault until every browser had a 200 answered after the last failed
   * request; undefined when some browser never got one.
   */
  recovery: number | undefined;
  /** The bound `recovery` is checked against (ms), derived from the configuration. */
  bound: number;
  /** The app process exited during the run (its code or signal). */
  exit: string | undefined;
  /** The first line of each distinct error Koa logged for a 500, with its count. */
  errors500: Record<string, number>;
  perBrowser: BrowserFigures[];
  finalErrors: string[];
}

export interface FigureInputs {
  variant: string;
  browsers: Browser[];
  fault: FaultReport;
  bound: number;
  exit: string | undefined;
  stderr: string;
}

const ok = (e: Exchange) => e.status === 200 && e.count !== undefined;

function browserFigures(browser: Browser, fault: FaultReport): BrowserFigures {
  const mayHaveWritten = fault.mayHaveWritten ?? (() => true);
  const figures: BrowserFigures = {
    acknowledged: 0,
    final: browser.final,
    lost: 0,
    lostAllowed: 0,
    unacknowledged: 0,
    unexplained: 0,
    unknown: 0,
  };
  let previous = 0;
  let unknownSince = 0;
  const step = (count: number) => {
    const rise = count - previous;
    if (rise < 1) figures.lost += 1 - rise;
    if (rise > 1) {
      figures.unacknowledged += rise - 1;
      figures.unexplained += Math.max(0, rise - 1 - unknownSince);
    }
    previous = count;
    unknownSince = 0;
  };
  for (const e of browser.log) {
    if (ok(e)) {
      figures.acknowledged++;
      step(e.count!);
    } else if (mayHaveWritten(e)) {
      unknownSince++;
      figures.unknown++;
    }
  }
  if (browser.final !== undefined) {
    // The store's count is the last write applied, not one more: compare it with the last 200's.
    const rise = browser.final - previous;
    if (rise < 0) figures.lost += -rise;
    if (rise > 0) {
      figures.unacknowledged += rise;
      figures.unexplained += Math.max(0, rise - unknownSince);
    }
  }
  const key = browser.key;
  const replicated = key === undefined ? undefined : fault.replicated?.get(key);
  if (replicated !== undefined) {
    // The highest count acknowledged for a request sent before the kill: all a killed master can have held.
    const before = browser.log.filter((e) => ok(e) && e.sent < fault.start).map((e) => e.count!);
    figures.lostAllowed = Math.max(0, Math.max(0, ...before) - replicated);
  }
  return figures;
}

/**
 * Each browser's 200s answered after the end of the fault and after the last failed request of any
 * browser of the app: the service as it is once it is back.
 */
export function servedAgain(browsers: Browser[], fault: FaultReport): Exchange[][] {
  const failures = browsers.flatMap((b) => b.log.filter((e) => !ok(e)).map((e) => e.answered));
  const pivot = Math.max(fault.end, ...failures);
  return browsers.map((b) => b.log.filter((e) => ok(e) && e.answered > pivot));
}

/** ms after `fault.end` until every browser had a 200 answered after the last failed request. */
function recoveryOf(browsers: Browser[], fault: FaultReport): number | undefined {
  const firsts = servedAgain(browsers, fault).map((served) => served[0]?.answered);
  if (firsts.some((at) => at === undefined)) return undefined;
  return Math.max(fault.end, ...(firsts as number[])) - fault.end;
}

/**
 * The first line of each error Koa logged (for a 500 it prints the stack on stderr after an empty
 * line, every line indented by two spaces).
 */
function errorsLogged(stderr: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of stderr.matchAll(/^\n {2}(\S.*)$/gm)) counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
  return counts;
}

export function figuresOf(inputs: FigureInputs): AppFigures {
  const { browsers, fault } = inputs;
  const all = browsers.flatMap((b) => b.log);
  const statuses: Record<string, number> = {};
  const networkErrors: Record<string, number> = {};
  for (const e of all) {
    statuses[e.status] = (statuses[e.status] ?? 0) + 1;
    if (e.error) networkErrors[e.error] = (networkErrors[e.error] ?? 0) + 1;
  }
  const answered503 = all.filter((e) => e.status === 503).map((e) => e.answered - fault.start);
  const perBrowser = browsers.map((b) => browserFigures(b, fault));
  const sum = (pick: (f: BrowserFigures) => number) => perBrowser.reduce((n, f) => n + pick(f), 0);
  return {
    variant: inputs.variant,
    browsers: browsers.length,
    requests: all.length,
    statuses,
    networkErrors,
    window503: answered503.length ? { from: Math.min(...answered503), to: Math.max(...answered503) } : undefined,
    longestWait: Math.max(0, ...all.map((e) => e.answered - e.sent)),
    acknowledged: sum((f) => f.acknowledged),
    lost: sum((f) => f.lost),
    lostAllowed: sum((f) => Math.min(f.lost, f.lostAllowed)),
    unacknowledged: sum((f) => f.unacknowledged),
    unexplained: sum((f) => f.unexplained),
    fenced: [...inputs.stderr.matchAll(/^chaos-fenced late$/gm)].length,
    recovery: recoveryOf(browsers, fault),
    bound: inputs.bound,
    exit: inputs.exit,
    errors500: statuses[500] ? errorsLogged(inputs.stderr) : {},
    perBrowser,
    finalErrors: browsers.flatMap((b) => (b.finalError ? [`${b.name}: ${b.finalError}`] : [])),
  };
}

export interface Expectations {
  /** No 503 at all: the store was back within `reconnectTimeout`, so every request could wait for it. */
  no503: boolean;
}

/** The chaos checks on one app's figures: each failure as a sentence, none when all hold. */
export function failures(f: AppFigures, expect: Expectations): string[] {
  const out: string[] = [];
  if (f.exit !== undefined) out.push(`the app process exited (${f.exit})`);
  if (f.statuses[500])
    out.push(`${f.statuses[500]} × 500 (${Object.keys(f.errors500).join('; ') || 'no error logged'})`);
  const errors = Object.entries(f.networkErrors);
  if (errors.length) out.push(`requests without an answer: ${errors.map(([why, n]) => `${n} × ${why}`).join(', ')}`);
  const others = Object.entries(f.statuses).filter(([s]) => !['0', '200', '500', '503'].includes(s));
  if (others.length) out.push(`unexpected statuses: ${others.map(([s, n]) => `${n} × ${s}`).join(', ')}`);
  if (expect.no503 && f.statuses[503])
    out.push(`${f.statuses[503]} × 503 although the store was back within reconnectTimeout`);
  if (f.lost > f.lostAllowed)
    out.push(
      `${f.lost - f.lostAllowed} acknowledged increment(s) lost (${f.lostAllowed} more lost by Redis's failover)`,
    );
  if (f.unexplained) out.push(`${f.unexplained} increment(s) applied beyond the requests whose outcome was unknown`);
  if (f.finalErrors.length) out.push(`final counts not read: ${f.finalErrors.join('; ')}`);
  if (f.recovery === undefined) out.push('service did not come back for every browser');
  else if (f.recovery > f.bound) out.push(`service came back ${f.recovery} ms after the fault, bound ${f.bound} ms`);
  return out;
}
