/**
 * In-process requests of one library, each scenario after a warm-up, in marked parts
 * (bench/sections.ts): what bench/instructions.ts runs under callgrind. A scenario that needs a
 * fresh session per request (login, logout) counts the `/get` that makes it too.
 *
 *   node --import tsx bench/requests-run.ts <library> [scenario …]
 *
 * Environment: COUNT_REQUESTS (per part, default 1000), COUNT_ROUNDS (parts per scenario, 5),
 * COUNT_WARMUP (requests before the first part, 30 000: V8 is still compiling after 10 000).
 */
import { LIBRARIES, SCENARIOS, cookieOf, request } from './in-process.js';
import { measured, printSections } from './sections.js';

const [library, ...wanted] = process.argv.slice(2);
const lib = LIBRARIES[library ?? ''];
if (!lib) throw new Error(`usage: requests-run.ts <${Object.keys(LIBRARIES).join('|')}> [scenario …]`);
const n = Number(process.env.COUNT_REQUESTS ?? 1000);
const rounds = Number(process.env.COUNT_ROUNDS ?? 5);
const warmup = Number(process.env.COUNT_WARMUP ?? 30_000);
for (const { id, path, cookie: sent } of SCENARIOS) {
  if (wanted.length > 0 && !wanted.includes(id)) continue;
  const handler = lib.make();
  const cookie = sent === 'kept' ? await cookieOf(handler) : undefined;
  // A fresh session's cookie is made by a request of its own, counted with the measured one.
  const run =
    sent === 'fresh'
      ? async () => request(handler, path, await cookieOf(handler))
      : () => request(handler, path, cookie);
  await measured(id, n, rounds, warmup, run);
}
printSections(n);
