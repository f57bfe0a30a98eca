/**
 * What a µs of work inside a request costs over HTTP on this machine. Bare Koa is measured next to
 * copies of itself that spend a known amount of busy work per request, and next to one that only
 * adds the two `Set-Cookie` headers of a saving session request; the table gives the server CPU
 * each adds per request. On a machine where the network costs a fixed amount per request, the
 * added CPU equals the work; on a virtual machine whose loopback writes and wake-ups grow when the
 * server slows down, it is larger, and every ratio of the main benchmark is read through that.
 *
 *   npx tsx bench/calibrate.ts
 *
 * Environment: BENCH_DURATION (s per measurement, default 3), BENCH_ROUNDS (default 3).
 */
import { spawnSync } from 'node:child_process';
import {
  runMain,
  PIN,
  drive,
  installCleanup,
  median,
  positiveNumber,
  startServer,
  stopChild,
  type BenchServer,
  type Variant,
} from './harness.js';

const DURATION = positiveNumber('BENCH_DURATION', 3);
const ROUNDS = Math.round(positiveNumber('BENCH_ROUNDS', 3));
const WORK = [0, 10, 20, 40];

installCleanup();

const variants: (Variant & { work: number; cookies: boolean })[] = [
  ...WORK.map((work) => ({ work, cookies: false })),
  { work: 0, cookies: true },
].map(({ work, cookies }) => ({
  id: cookies ? 'set-cookies' : `work-${work}`,
  label: cookies ? 'bare Koa + two Set-Cookie headers' : work ? `bare Koa + ${work} µs of work` : 'bare Koa',
  file: 'calibration.ts',
  rolling: false,
  env: { BENCH_WORK_US: String(work), BENCH_SET_COOKIES: cookies ? '1' : '0' },
  work,
  cookies,
}));

async function cpuPerRequest(server: BenchServer): Promise<number> {
  const before = await server.stats();
  await drive(server.port, '/', undefined, DURATION);
  const after = await server.stats();
  return (after.cpu - before.cpu) / (after.requests - before.requests);
}

async function main(): Promise<void> {
  if (PIN) spawnSync('taskset', ['-acp', '0', String(process.pid)]);
  console.log(
    `calibration: ${variants.length} servers × ${ROUNDS} rounds × ${DURATION} s, ${PIN ? 'server on core 1, load on core 0' : 'unpinned'}`,
  );
  const servers: BenchServer[] = [];
  try {
    for (const variant of variants) {
      const server = await startServer(variant, false, undefined);
      await drive(server.port, '/', undefined, 1);
      servers.push(server);
    }
    // Per round, each server's CPU µs per request minus bare Koa's in the same round.
    const added = new Map<string, number[]>(variants.map((v) => [v.id, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 ? servers : [...servers].reverse();
      const cpu = new Map<string, number>();
      for (const server of order) cpu.set(server.variant.id, await cpuPerRequest(server));
      for (const v of variants) added.get(v.id)!.push(cpu.get(v.id)! - cpu.get('work-0')!);
      console.log(`  round ${round}: bare Koa ${cpu.get('work-0')!.toFixed(1)} µs/req`);
    }
    console.log('\n| server | work added in the handler | server CPU added per request (median) | ratio |');
    console.log('|---|--:|--:|--:|');
    for (const v of variants.slice(1)) {
      const m = median(added.get(v.id)!);
      const work = v.cookies ? 'two setHeader values' : `${v.work} µs`;
      console.log(`| ${v.label} | ${work} | +${m.toFixed(1)} µs | ${v.work ? `${(m / v.work).toFixed(2)}×` : ''} |`);
    }
  } finally {
    await Promise.all(servers.map((s) => stopChild(s.child)));
  }
}

runMain(main);
