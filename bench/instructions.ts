/**
 * CPU instructions per request, counted by valgrind's callgrind: unlike µs, they do not depend on
 * what else the machine runs, so they compare two versions of the code on a busy machine. Each
 * library runs in its own process (bench/requests-run.ts, in-process requests as in
 * bench/overhead.ts) under `valgrind --tool=callgrind`, in parts of COUNT_REQUESTS requests after a
 * warm-up; the table gives the median part per request, and what it adds to bare Koa.
 *
 *   npm run build && NODE_ENV=production npx tsx bench/instructions.ts [library …]
 *   e.g. npx tsx bench/instructions.ts koa plain at-rest
 *
 * Libraries: koa, kgs, plain, owner, at-rest (bench/in-process.ts); bare Koa is always counted.
 * Environment: COUNT_REQUESTS, COUNT_ROUNDS, COUNT_WARMUP (bench/requests-run.ts), COUNT_SCENARIOS
 * (a comma list of write, read, none, new). Slow: valgrind runs Node about 50 times slower.
 */
import { LIBRARIES, SCENARIOS } from './in-process.js';
import { countSections, median } from './callgrind.js';

const wanted = process.argv.slice(2);
const libraries = ['koa', ...wanted.filter((l) => l !== 'koa')];
for (const l of libraries)
  if (!LIBRARIES[l]) throw new Error(`unknown library ${l}; known: ${Object.keys(LIBRARIES).join(', ')}`);
// Login and logout need a new session per request, whose making would be counted with them.
const scenarios = (process.env.COUNT_SCENARIOS ?? 'write,read,none,new').split(',');

const perRequest = new Map<string, Map<string, number>>();
for (const library of libraries) {
  const counted = await countSections('bench/requests-run.ts', [library, ...scenarios]);
  const byScenario = new Map<string, number>();
  for (const [name, counts] of counted.parts) byScenario.set(name, median(counts) / counted.n);
  perRequest.set(library, byScenario);
  process.stderr.write(
    `${library}: ${[...counted.parts].map(([s, c]) => `${s} ${c.map((v) => (v / counted.n / 1000).toFixed(1)).join('/')}k`).join(', ')}\n`,
  );
}

const others = libraries.slice(1);
const k = (v: number) => (v / 1000).toFixed(1);
console.log(
  `| scenario | bare Koa: k instructions | ${others.map((l) => `${LIBRARIES[l]!.label}: added k`).join(' | ')} |`,
);
console.log(`|---|--:|${others.map(() => '--:|').join('')}`);
for (const { id, label } of SCENARIOS) {
  if (!scenarios.includes(id)) continue;
  const base = perRequest.get('koa')!.get(id)!;
  const added = others.map((l) => perRequest.get(l)!.get(id)! - base);
  console.log(`| ${label} | ${k(base)} | ${added.map((a) => (a >= 0 ? `+${k(a)}` : `−${k(-a)}`)).join(' | ')} |`);
}
