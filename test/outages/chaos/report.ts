/**
 * Chaos results as text: one line of figures per app, and the evidence behind a failed check (the
 * exchanges of each browser where something went wrong, with their times on the run's clock).
 */
import type { Browser, Exchange } from './browsers.js';
import type { AppFigures, BrowserFigures } from './figures.js';
import type { AppResult, RunResult } from './run.js';

const ms = (value: number | undefined) => (value === undefined ? '—' : `${Math.round(value)} ms`);

export function statusList(statuses: Record<string, number>): string {
  return Object.entries(statuses)
    .map(([status, n]) => `${n} × ${status === '0' ? 'no answer' : status}`)
    .join(', ');
}

export function window503(f: AppFigures): string {
  return f.window503
    ? `${ms(f.window503.to - f.window503.from)} (${ms(f.window503.from)} → ${ms(f.window503.to)} after the fault)`
    : 'none';
}

/** One line: requests, statuses, 503 window, writes, recovery. */
export function figuresLine(f: AppFigures): string {
  return (
    `${f.variant}: ${f.requests} requests (${statusList(f.statuses)}); 503 window ${window503(f)}; ` +
    `longest wait ${ms(f.longestWait)}; ${f.acknowledged} acknowledged, ${f.lost} lost` +
    `${f.lostAllowed ? ` (${f.lostAllowed} by the failover)` : ''}, ${f.unacknowledged} applied unacknowledged, ` +
    `${f.fenced} late writes fenced off; ` +
    `back after ${ms(f.recovery)} (bound ${ms(f.bound)})`
  );
}

export function runLines(run: RunResult): string[] {
  const notes = Object.entries(run.fault.notes).map(([k, v]) => `${k} ${v}`);
  return [
    `${run.scenario} (${run.form}): fault at ${ms(run.fault.start)}, over at ${ms(run.fault.end)}${notes.length ? `, ${notes.join(', ')}` : ''}; load ran ${ms(run.elapsed)}`,
    ...run.apps.map((app) => `  ${figuresLine(app.figures)}`),
  ];
}

const show = (e: Exchange) =>
  `${e.sent}→${e.answered} ${e.status || e.error}${e.count === undefined ? '' : ` n=${e.count}`}`;

/** A browser's exchanges around every failure and every count that did not go up by one. */
function browserEvidence(browser: Browser, figures: BrowserFigures): string {
  const log = browser.log;
  const odd = new Set<number>();
  let previous = 0;
  log.forEach((e, i) => {
    const anomalous = e.status !== 200 || (e.count !== undefined && e.count !== previous + 1);
    if (e.count !== undefined) previous = e.count;
    if (anomalous) for (const j of [i - 1, i, i + 1]) if (j >= 0 && j < log.length) odd.add(j);
  });
  const shown = [...odd].sort((a, b) => a - b).map((i) => show(log[i]!));
  return `    ${browser.name} ${browser.key ?? ''} ${JSON.stringify(figures)}: ${shown.join(' | ')}; final ${browser.final ?? browser.finalError}`;
}

/** Why an app failed its checks: the failures, each suspicious browser's exchanges, its connection changes. */
export function evidence(app: AppResult): string {
  const browsers = app.browsers
    .map((b, i) => ({ b, f: app.figures.perBrowser[i]! }))
    .filter(({ b, f }) => f.lost || f.unexplained || b.finalError || b.log.some((e) => e.status !== 200))
    .slice(0, 8)
    .map(({ b, f }) => browserEvidence(b, f));
  const connection = app.connection.map((c) => `${c.state} at ${c.at}`).join(', ');
  return [
    `${app.variant.id}: ${app.failures.join('; ')}`,
    ...browsers,
    `    store connection: ${connection || 'no change reported'}`,
  ].join('\n');
}
