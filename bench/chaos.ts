/**
 * The long form of the chaos suite (`npm run chaos`): each scenario of
 * test/outages/chaos/scenarios.ts, for each variant on its own (its own Redis, its own fault, so that the
 * request counts compare), 20 browsers for 12 s, the fault at 3 s and Redis back at 6 s, repeated.
 * Prints a table per scenario, writes every run to bench/results/chaos.json and the tables to
 * docs/reliability.md (between its `chaos:figures` markers), and exits 1 when a check of this
 * library failed in any run.
 *
 * Environment:
 *   CHAOS_SCENARIOS  comma list of scenario ids (default: all)
 *   CHAOS_VARIANTS   comma list of variant ids (default: all)
 *   CHAOS_RUNS       repetitions of each scenario and variant (default 3)
 *   CHAOS_DOCS=0     do not rewrite docs/reliability.md
 *
 * Ctrl-C stops after the run in progress (each is bounded); a second Ctrl-C exits at once.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { list, median, positiveNumber } from './harness.js';
import { CLIENT, LONG, SESSION } from '../test/outages/chaos/config.js';
import type { AppFigures } from '../test/outages/chaos/figures.js';
import { evidence, runLines, statusList } from '../test/outages/chaos/report.js';
import { runScenario, type RunResult } from '../test/outages/chaos/run.js';
import { scenariosById, type Scenario } from '../test/outages/chaos/scenarios.js';
import { variantsById, variantsOn, type Variant } from '../test/outages/chaos/variants.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'results', 'chaos.json');
const DOC = join(ROOT, 'docs', 'reliability.md');
const START = '<!-- chaos:figures:start -->';
const END = '<!-- chaos:figures:end -->';

const RUNS = Math.round(positiveNumber('CHAOS_RUNS', 3));

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error('\nSIGINT: stopping after the run in progress (again to exit at once)');
});

interface Row {
  scenario: Scenario;
  variant: Variant;
  runs: { figures: AppFigures; failures: string[] }[];
}

const ms = (value: number) => `${Math.round(value)} ms`;

function sumStatuses(all: AppFigures[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of all) for (const [status, n] of Object.entries(f.statuses)) out[status] = (out[status] ?? 0) + n;
  return out;
}

/** One table row: a variant's figures over its runs. */
function tableRow({ variant, runs }: Row): string {
  const all = runs.map((r) => r.figures);
  const windows = all.map((f) => (f.window503 ? f.window503.to - f.window503.from : 0));
  const recoveries = all.map((f) => f.recovery);
  const back = recoveries.every((r) => r !== undefined)
    ? `${ms(median(recoveries as number[]))} (worst ${ms(Math.max(...(recoveries as number[])))})`
    : `never in ${recoveries.filter((r) => r === undefined).length} run(s)`;
  const lost = all.reduce((n, f) => n + f.lost, 0);
  const allowed = all.reduce((n, f) => n + f.lostAllowed, 0);
  const passed = runs.filter((r) => r.failures.length === 0).length;
  return [
    variant.label,
    String(runs.length),
    String(Math.round(median(all.map((f) => f.requests)))),
    statusList(sumStatuses(all)),
    all.map((f) => f.statuses[500] ?? 0).join(', '),
    windows.some((w) => w > 0) ? ms(Math.max(...windows)) : 'none',
    ms(Math.max(...all.map((f) => f.longestWait))),
    `${lost}${allowed ? ` (${allowed} by the failover)` : ''}`,
    String(all.reduce((n, f) => n + f.unacknowledged, 0)),
    variant.checked ? String(all.reduce((n, f) => n + f.fenced, 0)) : '–',
    back,
    variant.checked ? `${passed} of ${runs.length}` : 'not checked',
  ].join(' | ');
}

function tables(rows: Row[]): string {
  const out: string[] = [];
  for (const scenario of [...new Set(rows.map((r) => r.scenario))]) {
    out.push(`### ${scenario.title}`, '');
    out.push(
      '| variant | runs | requests per run (median) | statuses (all runs) | 500s per run | 503 window (longest) | longest wait | acknowledged increments lost | increments applied unacknowledged | late writes fenced off | service back after the fault ended (median) | runs passing the checks |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const row of rows.filter((r) => r.scenario === scenario)) out.push(`| ${tableRow(row)} |`);
    out.push('');
  }
  return out.join('\n');
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

function machine(): string {
  const redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? '?';
  return `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, redis-server ${redis}`;
}

async function main(): Promise<void> {
  const scenarios = scenariosById(list('CHAOS_SCENARIOS'));
  const variants = variantsById(list('CHAOS_VARIANTS'));
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'src') !== '';
  const rows: Row[] = [];
  const runs: RunResult[] = [];
  for (const scenario of scenarios) {
    for (const variant of variantsOn(scenario.topology, variants)) {
      const row: Row = { scenario, variant, runs: [] };
      rows.push(row);
      for (let i = 0; i < RUNS && !interrupted; i++) {
        const run = await runScenario(scenario, [variant], LONG);
        runs.push(run);
        const app = run.apps[0]!;
        row.runs.push({ figures: app.figures, failures: app.failures });
        console.log(runLines(run).join('\n'));
        if (app.failures.length) console.log(evidence(app));
      }
    }
  }
  const complete = rows.filter((r) => r.runs.length > 0);
  const header = [
    `Measured on commit \`${commit}\`${dirty ? ' **with uncommitted changes to src/**' : ''}, ${new Date().toISOString().slice(0, 10)}, ` +
      `${machine()}. Long form: ${LONG.browsers} browsers per app, back to back, ${LONG.duration / 1000} s or until served again, ` +
      `the fault at ${LONG.faultAt / 1000} s and Redis back at ${LONG.restartAt / 1000} s (failovers: when the replica is promoted), ` +
      `${RUNS} run(s) per scenario and variant, each variant on its own.`,
    '',
    `This library: reconnectTimeout ${SESSION.reconnectTimeout} ms, storeTimeout ${SESSION.storeTimeout} ms, ` +
      `lockTimeout ${SESSION.lockTimeout} ms, lockLease ${SESSION.lockLease} ms; its clients retry every ${CLIENT.retryDelay} ms.`,
    '',
  ].join('\n');
  const markdown = `${header}\n${tables(complete)}`;
  console.log(`\n${markdown}`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(
    RESULTS,
    `${JSON.stringify(
      {
        commit,
        dirty,
        date: new Date().toISOString(),
        machine: machine(),
        form: LONG,
        session: SESSION,
        client: CLIENT,
        runs: runs.map((r) => ({
          ...r,
          apps: r.apps.map((a) => ({
            variant: a.variant.id,
            failures: a.failures,
            figures: { ...a.figures, perBrowser: undefined },
          })),
        })),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${RESULTS}`);
  if (process.env.CHAOS_DOCS !== '0') {
    const doc = readFileSync(DOC, 'utf8');
    const from = doc.indexOf(START);
    const to = doc.indexOf(END);
    if (from < 0 || to < from) throw new Error(`${DOC} has no ${START} … ${END} block`);
    writeFileSync(DOC, `${doc.slice(0, from + START.length)}\n${markdown}\n${doc.slice(to)}`);
    console.log(`wrote the figures into ${DOC}`);
  }
  const failed = complete.filter((r) => r.variant.checked && r.runs.some((run) => run.failures.length > 0));
  if (failed.length) {
    console.error(`checks failed: ${failed.map((r) => `${r.scenario.id} / ${r.variant.id}`).join(', ')}`);
    process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
