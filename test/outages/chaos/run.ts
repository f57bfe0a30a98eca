/**
 * One chaos run: a scenario's Redis, one app process per variant on it, `form.browsers` browsers per
 * app sending requests one after the other, the fault injected on schedule, and the figures and
 * checks of each app (test/outages/chaos/figures.ts). Bounded: the load stops once every browser has been
 * served again for a few requests and `form.duration` has passed, or at the latest when the
 * scenario's recovery bound has run out; every process it started is stopped at the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startChaosApp, type ChaosApp } from './app-process.js';
import { Browser } from './browsers.js';
import { SESSION, type Form } from './config.js';
import { failures, figuresOf, servedAgain, type AppFigures, type FaultReport } from './figures.js';
import type { Scenario } from './scenarios.js';
import type { Variant } from './variants.js';

export interface AppResult {
  variant: Variant;
  figures: AppFigures;
  /** The chaos checks that failed (for this library's variants; the reference is not checked). */
  failures: string[];
  /** The browsers, with their logs: the evidence behind a failure. */
  browsers: Browser[];
  /** What the app process wrote on stderr (the tail): its logged errors. */
  stderr: string;
  /** The store connection changes this library's apps reported, on the run's clock. */
  connection: { state: string; at: number }[];
}

/** The `chaos-connection <state> <epoch ms>` lines of an app's stderr, on the run's clock. */
function connectionChanges(stderr: string, epochAtStart: number): { state: string; at: number }[] {
  return [...stderr.matchAll(/^chaos-connection (\w+) (\d+)$/gm)].map((m) => ({
    state: m[1]!,
    at: Number(m[2]) - epochAtStart,
  }));
}

export interface RunResult {
  scenario: string;
  form: Form['name'];
  fault: Omit<FaultReport, 'mayHaveWritten' | 'replicated'>;
  apps: AppResult[];
  /** ms the load ran. */
  elapsed: number;
}

/** How often the run looks whether it may stop (ms). */
const TICK = 100;
/** After the longest recovery bound, how long the load may go on for each browser's `form.tail` 200s (ms). */
const TAIL = 2_000;

export async function runScenario(scenario: Scenario, variants: Variant[], form: Form): Promise<RunResult> {
  const stage = await scenario.setUp(form);
  const apps: ChaosApp[] = [];
  try {
    apps.push(...(await Promise.all(variants.map((v) => startChaosApp(v, stage.env)))));
    const browsers = apps.map((app) =>
      Array.from({ length: form.browsers }, (_, i) => new Browser(app.url, `${app.variant.id}#${i}`)),
    );
    const t0 = performance.now();
    const epochAtStart = Date.now();
    const clock = () => Math.round(performance.now() - t0);
    // Every browser has a session before anything fails.
    await Promise.all(
      browsers.flat().map(async (b) => {
        const first = await b.count(clock);
        if (first.count !== 1)
          throw new Error(`${b.name}: the first /get answered ${first.status} ${JSON.stringify(first)}`);
      }),
    );
    let fault: FaultReport | undefined;
    let failed: unknown;
    let stop = false;
    const injected = stage
      .inject({
        clock,
        at: (ms) => sleep(Math.max(0, ms - clock())),
        keys: () => browsers.flat().flatMap((b) => (b.key ? [b.key] : [])),
      })
      .then(
        (report) => void (fault = report),
        (err: unknown) => void (failed = err),
      );
    const load = Promise.all(browsers.flat().map((b) => b.run(clock, form.think, () => stop)));
    // The latest stop: the longest recovery bound after the fault, then the tail.
    const longest = Math.max(...variants.map((v) => scenario.bound(v)));
    // The load stops early once this library's apps are all served again (the reference's when alone).
    const checked = browsers.filter((_, i) => apps[i]!.variant.checked);
    const awaited = checked.length ? checked : browsers;
    while (!stop) {
      await sleep(TICK);
      const now = clock();
      if (failed !== undefined) stop = true;
      else if (fault && now >= form.duration) {
        const done = awaited.every((own) => servedAgain(own, fault!).every((served) => served.length >= form.tail));
        stop = done || now >= fault.end + longest + TAIL;
      }
    }
    await load;
    await injected;
    if (failed !== undefined) throw failed;
    const elapsed = clock();
    const report = fault!;
    if (scenario.no503 && report.end - report.start >= SESSION.reconnectTimeout) {
      throw new Error(
        `the fault lasted ${report.end - report.start} ms, beyond reconnectTimeout: this run cannot check for no 503`,
      );
    }
    await Promise.all(browsers.flat().map((b) => b.readFinal()));
    const results = apps.map((app, i): AppResult => {
      const figures = figuresOf({
        variant: app.variant.id,
        browsers: browsers[i]!,
        fault: report,
        bound: scenario.bound(app.variant),
        exit: app.exit,
        stderr: app.stderr(),
      });
      return {
        variant: app.variant,
        figures,
        failures: app.variant.checked ? failures(figures, { no503: scenario.no503 }) : [],
        browsers: browsers[i]!,
        stderr: app.stderr(),
        connection: connectionChanges(app.stderr(), epochAtStart),
      };
    });
    const { mayHaveWritten: _w, replicated: _r, ...faultFigures } = report;
    return { scenario: scenario.id, form: form.name, fault: faultFigures, apps: results, elapsed };
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
    await stage.dispose();
  }
}
