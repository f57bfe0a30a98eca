/**
 * The benchmark (`npm run bench`).
 *
 * For each scenario, every variant's server runs as its own child process on 127.0.0.1 (pinned to
 * core 1 with `taskset` when there are two cores or more; this process, the load generator, moves
 * itself to core 0). Each round drives the variants one after the other, A B C … (reversed every
 * other round, so that a drift of the machine's speed favours none of them), with autocannon
 * (50 keep-alive connections, a fixed duration), and reads the server's CPU time and RSS over IPC
 * before and after. Every figure is reported as the median over rounds and as the median of the
 * per-round ratios to bare Koa (and to koa-generic-session), measured in the same round.
 *
 * Environment:
 *   BENCH_DURATION   seconds per measurement (default 3)
 *   BENCH_ROUNDS     rounds (default 3)
 *   BENCH_WARMUP     seconds of warm-up per server and scenario, not measured (default 1)
 *   BENCH_VARIANTS   comma list of variant ids (bare Koa is always added: it is the baseline)
 *   BENCH_SCENARIOS  comma list of scenario ids
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_BASELINE   a directory holding another build of this library: it runs beside this one
 *   BENCH_OUT        name of the result files (default latest)
 *
 * Writes bench/results/latest.json and bench/results/latest.md; `npx tsx bench/chart.ts` draws
 * docs/performance.svg from the JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  runMain,
  CONNECTIONS,
  NPROC,
  PIN,
  SCENARIOS,
  VARIANTS,
  commandCounts,
  drive,
  installCleanup,
  killAll,
  median,
  positiveNumber,
  prepareCookie,
  redisBinary,
  redisCommand,
  selected,
  startRedis,
  startServer,
  stopChild,
  type BenchServer,
  type RedisServer,
  type Scenario,
} from './harness.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, 'results');

const DURATION = positiveNumber('BENCH_DURATION', 3);
const ROUNDS = Math.round(positiveNumber('BENCH_ROUNDS', 3));
const WARMUP = process.env.BENCH_WARMUP === '0' ? 0 : positiveNumber('BENCH_WARMUP', 1);

installCleanup();

// ---------------------------------------------------------------------------------------------
// Measurement

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU µs per request served. */
  cpuUs: number;
  /** RSS in MB after the measurement. */
  rssMB: number;
  requests: number;
  errors: number;
  non2xx: number;
}

async function measure(server: BenchServer, scenario: Scenario, cookie: string | undefined): Promise<Sample> {
  const before = await server.stats();
  const result = await drive(server.port, scenario.path, cookie, DURATION);
  const after = await server.stats();
  const served = after.requests - before.requests;
  return {
    rps: result.requests.total / (result.duration || DURATION),
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUs: served > 0 ? (after.cpu - before.cpu) / served : NaN,
    rssMB: after.rss / 2 ** 20,
    requests: served,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

const METRICS = ['rps', 'p50', 'p99', 'cpuUs', 'rssMB'] as const;
type Metric = (typeof METRICS)[number];

interface VariantResult {
  rounds: Sample[];
  median: Record<Metric, number>;
  /** Median over rounds of (this variant / bare Koa in the same round). */
  vsKoa: Record<Metric, number>;
  /** Median over rounds of req/s (this variant / the koa-generic-session variant of the same store kind). */
  vsKgs?: { against: string; rps: number; cpuUs: number };
  /**
   * For this library with an option: the median over rounds of req/s (this variant / this library
   * without options on the same kind of store).
   */
  vsPlain?: { against: string; rps: number; cpuUs: number };
  errors: number;
  non2xx: number;
}

interface ScenarioResult {
  id: string;
  title: string;
  variants: Record<string, VariantResult>;
  /** For the Redis rolling read of this library: the commands redis-server counted while it ran. */
  redisCommands?: Record<string, number>;
}

function summarize(rounds: Record<string, Sample[]>): Record<string, VariantResult> {
  const out: Record<string, VariantResult> = {};
  const koa = rounds.koa ?? [];
  for (const [id, samples] of Object.entries(rounds)) {
    const ratio = (metric: Metric, base: Sample[]) =>
      median(samples.map((s, i) => (base[i] ? s[metric] / base[i][metric] : NaN)));
    const result: VariantResult = {
      rounds: samples,
      median: Object.fromEntries(METRICS.map((m) => [m, median(samples.map((s) => s[m]))])) as Record<Metric, number>,
      vsKoa: Object.fromEntries(METRICS.map((m) => [m, ratio(m, koa)])) as Record<Metric, number>,
      errors: samples.reduce((n, s) => n + s.errors, 0),
      non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
    };
    const against = VARIANTS.find((v) => v.id === id)?.redis ? 'kgs-redis' : 'kgs-memory';
    if (id !== against && rounds[against] && id !== 'koa') {
      result.vsKgs = { against, rps: ratio('rps', rounds[against]!), cpuUs: ratio('cpuUs', rounds[against]!) };
    }
    const plain = VARIANTS.find((v) => v.id === id)?.redis ? 'ksm-redis' : 'ksm-memory';
    if (id.startsWith('ksm-') && id !== plain && rounds[plain]) {
      result.vsPlain = { against: plain, rps: ratio('rps', rounds[plain]!), cpuUs: ratio('cpuUs', rounds[plain]!) };
    }
    out[id] = result;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');

function labelOf(id: string): string {
  return VARIANTS.find((v) => v.id === id)?.label ?? id;
}

function scenarioTable(s: ScenarioResult): string {
  const lines = [
    `#### ${s.title}`,
    '',
    '| variant | req/s | ×Koa | ×kgs | p50 ms | ×Koa | p99 ms | ×Koa | CPU µs/req | ×Koa | RSS MB | ×Koa |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const [id, r] of Object.entries(s.variants)) {
    const m = r.median;
    const k = r.vsKoa;
    const flag = r.errors || r.non2xx ? ` ⚠ ${r.errors} errors, ${r.non2xx} non-2xx` : '';
    lines.push(
      `| ${labelOf(id)}${flag} | ${fmt(m.rps)} | ${ratio(k.rps)} | ${r.vsKgs ? ratio(r.vsKgs.rps) : ''} | ${fmt(m.p50, 1)} | ${ratio(k.p50)} | ${fmt(m.p99, 1)} | ${ratio(k.p99)} | ${fmt(m.cpuUs, 1)} | ${ratio(k.cpuUs)} | ${fmt(m.rssMB, 1)} | ${ratio(k.rssMB)} |`,
    );
  }
  return lines.join('\n');
}

function ratioMatrix(
  results: ScenarioResult[],
  variants: string[],
  pick: (r: VariantResult) => number | undefined,
  title: string,
): string {
  const cols = variants.filter((id) => results.some((s) => s.variants[id] && pick(s.variants[id]!) !== undefined));
  if (cols.length === 0) return '';
  const lines = [
    title,
    '',
    `| scenario | ${cols.map(labelOf).join(' | ')} |`,
    `|---|${cols.map(() => '--:').join('|')}|`,
  ];
  for (const s of results) {
    const cells = cols.map((id) => {
      const r = s.variants[id];
      const value = r && pick(r);
      return value === undefined ? '' : ratio(value);
    });
    lines.push(`| ${s.title} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

interface Target {
  text: string;
  measured: number | undefined;
  /** The same ratio from server CPU per request (capacity if CPU-bound), less sensitive to load. */
  cpuBased?: number | undefined;
  threshold: number;
  met: boolean | undefined;
  detail?: string;
}

function targets(results: ScenarioResult[]): Target[] {
  const at = (scenario: string, variant: string) => results.find((s) => s.id === scenario)?.variants[variant];
  const check = (text: string, value: number | undefined, threshold: number, cpuRatio?: number): Target => ({
    text,
    measured: value,
    cpuBased: cpuRatio === undefined || !Number.isFinite(cpuRatio) ? undefined : 1 / cpuRatio,
    threshold,
    met: value === undefined || !Number.isFinite(value) ? undefined : value >= threshold,
  });
  const list: Target[] = [];
  const touching = [
    ['get-cookie', 'write'],
    ['read-cookie', 'read'],
    ['get-new', 'new session'],
    ['rolling-read', 'rolling read'],
  ] as const;
  for (const [scenario, name] of touching) {
    list.push(
      check(
        `MemoryStore ≥ 3× koa-generic-session req/s, ${name} (${scenario})`,
        at(scenario, 'ksm-memory')?.vsKgs?.rps,
        3,
        at(scenario, 'ksm-memory')?.vsKgs?.cpuUs,
      ),
    );
  }
  list.push(
    check(
      'MemoryStore ≥ 0.95× bare Koa req/s, session untouched (none)',
      at('none', 'ksm-memory')?.vsKoa.rps,
      0.95,
      at('none', 'ksm-memory')?.vsKoa.cpuUs,
    ),
  );
  for (const [scenario, name] of touching) {
    list.push(
      check(
        `RedisStore ≥ 2.5× koa-generic-session + koa-redis req/s, ${name} (${scenario})`,
        at(scenario, 'ksm-redis')?.vsKgs?.rps,
        2.5,
        at(scenario, 'ksm-redis')?.vsKgs?.cpuUs,
      ),
    );
  }
  // Options that cost little: at least 0.85× this library without them, on the same store.
  const options = [
    ['ksm-memory-at-rest', 'MemoryStore, hashIds + seal', touching.slice(0, 3)],
    ['ksm-redis-at-rest', 'RedisStore, hashIds + seal', touching.slice(0, 3)],
    ['ksm-redis-owner', 'RedisStore, owner', touching.slice(0, 1)],
    ['ksm-memory-owner', 'MemoryStore, owner', touching.slice(0, 1)],
  ] as const;
  for (const [variant, name, where] of options) {
    for (const [scenario, what] of where) {
      const r = at(scenario, variant)?.vsPlain;
      if (r) list.push(check(`${name} ≥ 0.85× without it, ${what} (${scenario})`, r.rps, 0.85, r.cpuUs));
    }
  }
  const rolling = results.find((s) => s.id === 'rolling-read')?.redisCommands;
  if (rolling) {
    const writes =
      (rolling.set ?? 0) + (rolling.setex ?? 0) + (rolling.psetex ?? 0) + (rolling.eval ?? 0) + (rolling.evalsha ?? 0);
    const pexpire = rolling.pexpire ?? 0;
    list.push({
      text: 'rolling reads refresh the TTL with PEXPIRE, no rewrite (Redis command counts)',
      measured: undefined,
      threshold: 0,
      met: pexpire > 0 && writes === 0,
      detail: Object.entries(rolling)
        .filter(([c]) => !c.startsWith('config'))
        .map(([c, n]) => `${c.toUpperCase()} ${n}`)
        .join(', '),
    });
  } else {
    list.push({
      text: 'rolling reads refresh the TTL with PEXPIRE, no rewrite',
      measured: undefined,
      threshold: 0,
      met: undefined,
      detail: 'not measured (no RedisStore run)',
    });
  }
  return list;
}

function targetsTable(list: Target[]): string {
  const lines = ['| target | measured (req/s ratio) | met | same ratio from CPU µs/req |', '|---|--:|---|--:|'];
  for (const t of list) {
    const measured = t.measured !== undefined ? ratio(t.measured) : (t.detail ?? '–');
    const cpu = t.cpuBased !== undefined ? ratio(t.cpuBased) : '';
    lines.push(`| ${t.text} | ${measured} | ${t.met === undefined ? 'not measured' : t.met ? 'yes' : 'no'} | ${cpu} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

/** Jiffies of the whole machine from /proc/stat: [busy, steal, total]. */
function cpuTimes(): [number, number, number] | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    return [user + nice + system + irq + softirq, steal, user + nice + system + idle + iowait + irq + softirq + steal];
  } catch {
    return undefined;
  }
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
}

async function main(): Promise<void> {
  const scenarios = selected(SCENARIOS, 'BENCH_SCENARIOS');
  let variants = selected(VARIANTS, 'BENCH_VARIANTS');
  const notes: string[] = [];

  if (PIN) {
    const moved = spawnSync('taskset', ['-acp', '0', String(process.pid)], { encoding: 'utf8' });
    if (moved.status !== 0) notes.push('could not pin the load generator to core 0; it runs unpinned');
  } else {
    notes.push(
      NPROC < 2 ? 'one core: nothing pinned, server and load generator share it' : 'taskset missing: nothing pinned',
    );
  }

  let redis: RedisServer | undefined;
  if (variants.some((v) => v.redis)) {
    const binary = redisBinary();
    const missing: string[] = [];
    if (!binary) {
      notes.push('skipped the Redis variants: no redis-server binary on PATH');
      missing.push(...variants.filter((v) => v.redis).map((v) => v.id));
    }
    variants = variants.filter((v) => !missing.includes(v.id));
    if (binary && variants.some((v) => v.redis)) redis = await startRedis(binary);
  }

  const estimate = scenarios.length * variants.length * (ROUNDS * DURATION + WARMUP + 4);
  console.log(
    `koa-session-machine benchmark: ${variants.length} variants × ${scenarios.length} scenarios × ${ROUNDS} rounds × ${DURATION} s, ` +
      `${CONNECTIONS} connections, ${PIN ? 'servers on core 1, load generator on core 0' : 'unpinned'}; about ${Math.ceil(estimate / 60)} min`,
  );
  for (const note of notes) console.log(`note: ${note}`);
  // The whole run is bounded: twice the estimate plus a margin, then everything is killed.
  const deadline = setTimeout(
    () => {
      console.error('the benchmark ran far over its time estimate: stopping');
      killAll('SIGKILL');
      process.exit(1);
    },
    (estimate * 2 + 120) * 1_000,
  );
  deadline.unref();

  const results: ScenarioResult[] = [];
  const loadBefore = loadAverage();
  const timesBefore = cpuTimes();
  try {
    for (const scenario of scenarios) {
      console.log(`\n== ${scenario.id}: ${scenario.title}`);
      const servers: BenchServer[] = [];
      const cookies = new Map<string, string | undefined>();
      const rounds: Record<string, Sample[]> = {};
      let redisCommands: Record<string, number> | undefined;
      const reported = new Set<string>();
      try {
        for (const variant of variants) {
          let server: BenchServer | undefined;
          try {
            server = await startServer(variant, scenario.rolling && variant.rolling, redis?.url);
            cookies.set(variant.id, await prepareCookie(server, scenario));
            if (WARMUP > 0) await drive(server.port, scenario.path, cookies.get(variant.id), WARMUP);
          } catch (err) {
            // A variant that cannot start (or serve) is left out of this scenario, not the run.
            if (variant.id === 'koa') throw err;
            const message = (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 4).join(' / ');
            console.log(`  ! ${variant.id} left out of ${scenario.id}: ${message}`);
            notes.push(`${variant.id} left out of ${scenario.id}: ${message}`);
            if (server) await stopChild(server.child);
            continue;
          }
          servers.push(server);
          rounds[variant.id] = [];
        }
        for (let round = 1; round <= ROUNDS; round++) {
          // A B C, then C B A: a machine that speeds up or slows down during a round favours no variant.
          for (const server of round % 2 ? servers : [...servers].reverse()) {
            const id = server.variant.id;
            const countCommands = redis && id === 'ksm-redis' && scenario.rolling;
            if (countCommands) await redisCommand(redis!.port, 'CONFIG', 'RESETSTAT');
            const sample = await measure(server, scenario, cookies.get(id));
            if (countCommands) {
              const counts = commandCounts(await redisCommand(redis!.port, 'INFO', 'commandstats'));
              redisCommands ??= {};
              for (const [c, n] of Object.entries(counts)) redisCommands[c] = (redisCommands[c] ?? 0) + n;
            }
            rounds[id]!.push(sample);
            if ((sample.errors || sample.non2xx) && !reported.has(id)) {
              reported.add(id);
              const tail = server.stderr().trim().split('\n').slice(-12).join('\n    ');
              console.log(
                `  ! ${id}: ${sample.errors} errors, ${sample.non2xx} non-2xx responses; its stderr ends with:\n    ${tail || '(nothing)'}`,
              );
            }
            console.log(
              `  round ${round} ${id.padEnd(20)} ${fmt(sample.rps).padStart(7)} req/s  p50 ${fmt(sample.p50, 1)} ms  p99 ${fmt(sample.p99, 1)} ms  ` +
                `${fmt(sample.cpuUs, 1)} µs/req  ${fmt(sample.rssMB, 1)} MB${sample.errors || sample.non2xx ? `  ⚠ ${sample.errors} errors ${sample.non2xx} non-2xx` : ''}`,
            );
          }
        }
      } finally {
        await Promise.all(servers.map((s) => stopChild(s.child)));
      }
      const result: ScenarioResult = { id: scenario.id, title: scenario.title, variants: summarize(rounds) };
      if (redisCommands) result.redisCommands = redisCommands;
      results.push(result);
      console.log('\n' + scenarioTable(result));
    }
  } finally {
    await redis?.stop();
  }

  const timesAfter = cpuTimes();
  let steal = NaN;
  if (timesBefore && timesAfter) {
    const total = timesAfter[2] - timesBefore[2];
    steal = total > 0 ? (100 * (timesAfter[1] - timesBefore[1])) / total : NaN;
  }
  const variantIds = variants.map((v) => v.id);
  const command = [
    ...[
      'BENCH_DURATION',
      'BENCH_ROUNDS',
      'BENCH_WARMUP',
      'BENCH_VARIANTS',
      'BENCH_SCENARIOS',
      'BENCH_CONNECTIONS',
      'BENCH_BASELINE',
      'BENCH_OUT',
    ]
      .filter((name) => process.env[name])
      .map((name) => `${name}=${process.env[name]}`),
    'npm run bench',
  ].join(' ');
  const meta = {
    date: new Date().toISOString(),
    command,
    nproc: NPROC,
    cpu: cpuModel(),
    node: process.version,
    duration: DURATION,
    rounds: ROUNDS,
    warmup: WARMUP,
    connections: CONNECTIONS,
    pinned: PIN,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAverage(),
    stealPercent: steal,
    notes,
  };
  const targetList = targets(results);
  const markdown = [
    `Run ${meta.date}: \`${command}\`; ${meta.nproc} × ${meta.cpu}, Node ${meta.node}; ` +
      `${CONNECTIONS} keep-alive connections, ${DURATION} s per measurement, ${ROUNDS} rounds, ${PIN ? 'server on core 1, autocannon on core 0' : 'unpinned'}.`,
    `Load average ${meta.loadAverageBefore} before, ${meta.loadAverageAfter} after; CPU steal (hypervisor) ${fmt(steal, 1)} % of the machine's time during the run.`,
    ...notes.map((n) => `Note: ${n}.`),
    '',
    '### Per scenario (medians over rounds; ×Koa and ×kgs are medians of the per-round ratios)',
    '',
    '×kgs compares with koa-generic-session on the same kind of store (MemoryStore, or koa-redis for the Redis variants).',
    '',
    ...results.map((s) => scenarioTable(s) + '\n'),
    ratioMatrix(
      results,
      variantIds.filter((id) => id !== 'koa'),
      (r) => r.vsKoa.rps,
      '### req/s as a ratio to bare Koa',
    ),
    '',
    ratioMatrix(
      results,
      variantIds,
      (r) => r.vsKgs?.rps,
      '### req/s as a ratio to koa-generic-session (same kind of store)',
    ),
    '',
    ratioMatrix(
      results,
      variantIds,
      (r) => r.vsPlain?.rps,
      '### req/s as a ratio to this library without the option (same kind of store)',
    ),
    '',
    '### Targets',
    '',
    targetsTable(targetList),
    '',
  ].join('\n');
  console.log('\n' + markdown);

  mkdirSync(RESULTS, { recursive: true });
  const out = process.env.BENCH_OUT || 'latest';
  if (!/^[\w.-]+$/.test(out)) throw new Error(`BENCH_OUT must be a plain file name, got ${out}`);
  writeFileSync(
    join(RESULTS, `${out}.json`),
    JSON.stringify(
      { meta, variants: variants.map(({ id, label }) => ({ id, label })), scenarios: results, targets: targetList },
      null,
      2,
    ) + '\n',
  );
  writeFileSync(join(RESULTS, `${out}.md`), markdown);
  console.log(`wrote bench/results/${out}.json and bench/results/${out}.md (chart: npx tsx bench/chart.ts)`);
}

runMain(main);
