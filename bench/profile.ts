/**
 * Where the time goes: runs one variant's server under `node --cpu-prof`, drives one scenario with
 * autocannon, and summarizes the profile over the measured window only (start-up, tsx's compile
 * and the warm-up are cut off using the server's monotonic clock, which `--cpu-prof` timestamps
 * share).
 *
 *   npx tsx bench/profile.ts [variant] [scenario …]
 *   e.g. npx tsx bench/profile.ts ksm-memory get-cookie read-cookie
 *
 * Environment: PROFILE_DURATION (s, default 5), PROFILE_TOP (rows, default 25), BENCH_CONNECTIONS.
 * The .cpuprofile files stay in bench/results/profiles/ (open them in Chrome DevTools).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  runMain,
  ROOT,
  SCENARIOS,
  VARIANTS,
  drive,
  installCleanup,
  positiveNumber,
  prepareCookie,
  redisBinary,
  sleep,
  startRedis,
  startServer,
  stopChild,
  type RedisServer,
} from './harness.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DIR = join(HERE, 'results', 'profiles');
const DURATION = positiveNumber('PROFILE_DURATION', 5);
const TOP = Math.round(positiveNumber('PROFILE_TOP', 25));

installCleanup();

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function where(frame: CallFrame): string {
  const { url } = frame;
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = path.startsWith(ROOT) ? relative(ROOT, path) : path;
  const short = rel.replace(/^node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '');
  // tsx's output of src/ files keeps no useful line numbers: the function name is what tells.
  return /^(src|dist)\//.test(short) ? short : `${short}:${frame.lineNumber + 1}`;
}

/** The group a frame's time is charged to: a file of src/, a package, Node's own code, or V8. */
function group(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith('node:')) return 'node: ' + path.slice(5).split('/')[0];
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  return relative(ROOT, path);
}

interface Summary {
  totalMs: number;
  samples: number;
  self: [string, number][];
  groups: [string, number][];
  inclusiveSrc: [string, number][];
}

function summarize(profile: CpuProfile, fromUs: number, toUs: number): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const groups = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let t = profile.startTime;
  let total = 0;
  let count = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample's time is the gap to the next one.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const node = byId.get(profile.samples[i]!)!;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') continue;
    total += dt;
    count++;
    const key = `${frame.functionName || '(anonymous)'}  ${where(frame)}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    groups.set(group(frame), (groups.get(group(frame)) ?? 0) + dt);
    // Inclusive time of this library's functions: each once per sample, however deep the recursion.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      // The library's own frames: its TypeScript sources, or the build the benchmark servers load.
      if (!/\/(src|dist)\//.test(f.url) || f.url.includes('node_modules')) continue;
      const k = `${f.functionName || '(anonymous)'}  ${where(f)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total / 1000,
    samples: count,
    self: sorted(self),
    groups: sorted(groups),
    inclusiveSrc: sorted(inclusive),
  };
}

function print(title: string, rows: [string, number][], total: number, limit: number): void {
  console.log(`\n  ${title}`);
  for (const [name, us] of rows.slice(0, limit)) {
    console.log(
      `  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`,
    );
  }
}

async function main(): Promise<void> {
  const variantId = process.argv[2] ?? 'ksm-memory';
  const variant = VARIANTS.find((v) => v.id === variantId);
  if (!variant) throw new Error(`unknown variant ${variantId}; known: ${VARIANTS.map((v) => v.id).join(', ')}`);
  const scenarioIds = process.argv.length > 3 ? process.argv.slice(3) : ['get-cookie', 'read-cookie'];
  const scenarios = scenarioIds.map((id) => {
    const s = SCENARIOS.find((x) => x.id === id);
    if (!s) throw new Error(`unknown scenario ${id}; known: ${SCENARIOS.map((x) => x.id).join(', ')}`);
    return s;
  });
  mkdirSync(DIR, { recursive: true });
  let redis: RedisServer | undefined;
  if (variant.redis) {
    const binary = redisBinary();
    if (!binary) throw new Error('redis-server is not on PATH');
    redis = await startRedis(binary);
  }
  try {
    for (const scenario of scenarios) {
      const name = `${variant.id}-${scenario.id}`;
      const dir = join(DIR, name);
      rmSync(dir, { recursive: true, force: true });
      const server = await startServer(variant, scenario.rolling && variant.rolling, redis?.url, [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
      ]);
      let from = 0;
      let to = 0;
      let served = 0;
      let cpu = 0;
      try {
        const cookie = await prepareCookie(server, scenario);
        await drive(server.port, scenario.path, cookie, 1);
        const before = await server.stats();
        const result = await drive(server.port, scenario.path, cookie, DURATION);
        const after = await server.stats();
        from = before.hr;
        to = after.hr;
        served = after.requests - before.requests;
        cpu = after.cpu - before.cpu;
        console.log(
          `\n== ${variant.label}, ${scenario.title}: ${(result.requests.total / result.duration).toFixed(0)} req/s under the profiler, ` +
            `${(cpu / served).toFixed(1)} µs of CPU per request`,
        );
      } finally {
        await stopChild(server.child, 10_000);
      }
      // The profile is written when the server exits.
      let file: string | undefined;
      for (let i = 0; i < 50 && !file; i++) {
        file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
        if (!file) await sleep(100);
      }
      if (!file) throw new Error(`no .cpuprofile was written in ${dir}`);
      const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      if (from < profile.startTime || to > profile.endTime) {
        console.log('  (the server clock and the profile clock disagree: summarizing the whole profile)');
        from = profile.startTime;
        to = profile.endTime;
      }
      const s = summarize(profile, from, to);
      const perRequest = (us: number) => (served > 0 ? ` (${(us / served).toFixed(1)} µs/req)` : '');
      console.log(
        `  profile: ${relative(ROOT, join(dir, file))}; ${s.samples} samples, ${s.totalMs.toFixed(0)} ms busy in the window${perRequest(s.totalMs * 1000)}`,
      );
      print('self time by function', s.self, s.totalMs * 1000, TOP);
      print('self time by file / package', s.groups, s.totalMs * 1000, 15);
      print(
        'inclusive time of the library functions (per request in parentheses)',
        s.inclusiveSrc.map(([k, v]) => [`${k}${perRequest(v)}`, v]),
        s.totalMs * 1000,
        15,
      );
    }
  } finally {
    await redis?.stop();
  }
}

runMain(main);
