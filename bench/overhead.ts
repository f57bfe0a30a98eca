/**
 * What each session library adds to a Koa request, without the network: requests are handed to
 * `app.callback()` in-process (bench/in-process.ts: a real IncomingMessage and ServerResponse, no
 * socket), one after another, and the µs per request are compared with bare Koa. On this kind of
 * virtual machine the loopback socket writes cost more than the session work, which blurs the
 * HTTP benchmark's ratios; this shows the libraries' own cost.
 *
 * The libraries take turns in short rounds (bare Koa in every round), and each figure is the median
 * over rounds of what the library added to bare Koa in the same round: a round the machine slows
 * down slows the library and bare Koa alike, and a slow stretch of the run touches every library.
 *
 *   npm run build && NODE_ENV=production npx tsx bench/overhead.ts [library …]
 *
 * Libraries: kgs, plain, owner, at-rest (all by default; bench/in-process.ts says what they are).
 * Environment: OVERHEAD_REQUESTS (per library and round, default 500), OVERHEAD_ROUNDS (21),
 * OVERHEAD_WARMUP (requests per library before the rounds, 5 000), OVERHEAD_SCENARIOS (a comma
 * list of write, read, none, new, login, logout; the first four by default). Login and logout time
 * only the request that logs in or out, each with a new session made before it.
 */
import { LIBRARIES, SCENARIOS, cookieOf, request, type Handler, type Scenario } from './in-process.js';
import { median } from './callgrind.js';

const REQUESTS = Number(process.env.OVERHEAD_REQUESTS ?? 500);
const ROUNDS = Number(process.env.OVERHEAD_ROUNDS ?? 21);
const WARMUP = Number(process.env.OVERHEAD_WARMUP ?? 5_000);

const wanted = process.argv.slice(2).filter((l) => l !== 'koa');
const libraries = wanted.length > 0 ? wanted : ['kgs', 'plain', 'owner', 'at-rest'];
for (const l of libraries) {
  if (!LIBRARIES[l]) throw new Error(`unknown library ${l}; known: ${Object.keys(LIBRARIES).join(', ')}`);
}

/** µs per request over `n` requests; a fresh session's cookie is made before each, untimed. */
async function timed(handler: Handler, scenario: Scenario, cookie: string | undefined, n: number): Promise<number> {
  if (scenario.cookie !== 'fresh') {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await request(handler, scenario.path, cookie);
    return Number(process.hrtime.bigint() - start) / n / 1000;
  }
  let total = 0n;
  for (let i = 0; i < n; i++) {
    const fresh = await cookieOf(handler);
    const start = process.hrtime.bigint();
    await request(handler, scenario.path, fresh);
    total += process.hrtime.bigint() - start;
  }
  return Number(total) / n / 1000;
}

const fmt = (us: number) => (us >= 0 ? `+${us.toFixed(1)}` : `−${(-us).toFixed(1)}`);
console.log(`| scenario | bare Koa µs | ${libraries.map((l) => `${LIBRARIES[l]!.label}: added µs`).join(' | ')} |`);
console.log(`|---|--:|${libraries.map(() => '--:|').join('')}`);
const scenarios = (process.env.OVERHEAD_SCENARIOS ?? 'write,read,none,new').split(',');
for (const scenario of SCENARIOS) {
  if (!scenarios.includes(scenario.id)) continue;
  const runs: { handler: Handler; cookie: string | undefined }[] = [];
  for (const id of ['koa', ...libraries]) {
    const handler = LIBRARIES[id]!.make();
    runs.push({ handler, cookie: scenario.cookie === 'kept' ? await cookieOf(handler) : undefined });
  }
  for (const { handler, cookie } of runs) await timed(handler, scenario, cookie, WARMUP);
  const base: number[] = [];
  const added: number[][] = libraries.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    // Bare Koa first in odd rounds and last in even ones, around the libraries.
    const bareFirst = r % 2 === 0;
    const bare = bareFirst ? await timed(runs[0]!.handler, scenario, undefined, REQUESTS) : 0;
    const times: number[] = [];
    for (const { handler, cookie } of runs.slice(1)) times.push(await timed(handler, scenario, cookie, REQUESTS));
    const bareNow = bareFirst ? bare : await timed(runs[0]!.handler, scenario, undefined, REQUESTS);
    base.push(bareNow);
    times.forEach((t, i) => added[i]!.push(t - bareNow));
  }
  console.log(`| ${scenario.label} | ${median(base).toFixed(1)} | ${added.map((a) => fmt(median(a))).join(' | ')} |`);
}
