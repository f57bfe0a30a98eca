/**
 * Where a request's instructions go, function by function: in-process requests of one library and
 * scenario (bench/requests-run.ts) under callgrind, as bench/instructions.ts counts them, with
 * every instruction of the measured part charged to the function it ran in. Code V8 compiled at run
 * time has no symbol for callgrind; it is named from the perf map V8 writes with
 * `--perf-basic-prof` (and `--no-compact-code-space`, so that compiled code does not move). A profile by
 * instructions, not by samples: it does not depend on what else the machine runs, and small
 * functions are counted exactly.
 *
 *   npm run build && npx tsx bench/instruction-profile.ts <library> <scenario> [rows] [function …]
 *   e.g. npx tsx bench/instruction-profile.ts plain new 40 Builtins_KeyedStoreIC
 *
 * Functions named after the rows get all their callers listed.
 *
 * Self instructions per request, by function and by group (this library's build, Koa and other
 * packages, Node's JavaScript, V8's builtins, C++ and libraries). COUNT_REQUESTS and COUNT_WARMUP
 * as for bench/instructions.ts (one measured part).
 */
import { readFileSync, rmSync } from 'node:fs';
import { countSections } from './callgrind.js';

const [library, scenario, rowsArg, ...asked] = process.argv.slice(2);
if (!library || !scenario) throw new Error('usage: instruction-profile.ts <library> <scenario> [rows]');
const ROWS = Number(rowsArg ?? 40);

interface Mapped {
  start: number;
  end: number;
  name: string;
}

/** The perf map of `pid`: compiled code ranges and their names, the latest first where they overlap. */
function perfMap(pid: number): Mapped[] {
  const file = `/tmp/perf-${pid}.map`;
  const entries: Mapped[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1]!, 16);
    entries.push({ start, end: start + parseInt(m[2]!, 16), name: m[3]! });
  }
  rmSync(file, { force: true });
  // Sorted by start; of entries with the same start, the last written wins.
  const latest = new Map<number, Mapped>();
  for (const e of entries) latest.set(e.start, e);
  return [...latest.values()].sort((a, b) => a.start - b.start);
}

function lookup(map: Mapped[], address: number): string | undefined {
  let lo = 0;
  let hi = map.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid]!.start <= address) lo = mid + 1;
    else hi = mid - 1;
  }
  const e = map[hi];
  return e !== undefined && address < e.end ? e.name : undefined;
}

/** A JavaScript function's name without V8's tier marks (`*` optimized, `~` interpreted, …). */
function jsName(raw: string): string {
  return raw.replace(/^(JS|LazyCompile|Function|Builtin|Script):/, '').replace(/^[*~^+]/, '');
}

interface Profile {
  /** Self instructions by function. */
  self: Map<string, number>;
  /** For each function called: its callers, with the instructions of their calls (callee included). */
  callers: Map<string, Map<string, number>>;
}

/** Self instructions by function, and who calls what, in a dump made with `--dump-instr=yes --dump-line=no`. */
function profileOf(text: string, map: Mapped[]): Profile {
  const names = new Map<string, string>();
  const self = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  let fn = '';
  let callee = '';
  let address = 0;
  let callCost = false;
  const named = (kind: string, value: string) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(value);
    if (!m) return value;
    const key = `${kind}${m[1]}`;
    if (m[2] !== undefined) names.set(key, m[2]);
    return names.get(key) ?? value;
  };
  /** A function as named in the dump, or the compiled code at `at` by the perf map. */
  const resolve = (name: string, at: number) =>
    /^0x[0-9a-f]+$/.test(name) ? (lookup(map, at) ?? '(compiled code, unnamed)') : name;
  // Names are compressed to ids, one space for functions (fn, cfn), one for files, one for objects.
  const space: Record<string, string> = {
    fn: 'fn',
    cfn: 'fn',
    fl: 'fl',
    fi: 'fl',
    fe: 'fl',
    cfi: 'fl',
    cfl: 'fl',
    ob: 'ob',
    cob: 'ob',
  };
  for (const line of text.split('\n')) {
    const spec = /^(fn|cfn|fl|fi|fe|cfi|cfl|ob|cob)=(.*)$/.exec(line);
    if (spec) {
      const name = named(space[spec[1]!]!, spec[2]!);
      if (spec[1] === 'fn') fn = name;
      if (spec[1] === 'cfn') callee = name;
      continue;
    }
    const call = /^calls=\d+ (0x[0-9a-f]+)/.exec(line);
    if (call) {
      callCost = true;
      callee = resolve(callee, parseInt(call[1]!, 16));
      continue;
    }
    const m = /^(0x[0-9a-f]+|[+-]\d+|\*)\s+(\d+)/.exec(line);
    if (!m) continue;
    const pos = m[1]!;
    if (pos.startsWith('0x')) address = parseInt(pos, 16);
    else if (pos !== '*') address += Number(pos);
    const ir = Number(m[2]);
    const where = resolve(fn, address);
    if (callCost) {
      // The instructions of a call made here, the callee's included: not this function's own.
      callCost = false;
      const of = callers.get(callee) ?? new Map<string, number>();
      of.set(where, (of.get(where) ?? 0) + ir);
      callers.set(callee, of);
      continue;
    }
    self.set(where, (self.get(where) ?? 0) + ir);
  }
  return { self, callers };
}

function groupOf(name: string): string {
  if (/\/dist\/|\/src\//.test(name)) return 'this library';
  if (name.includes('node_modules/')) return /node_modules\/((?:@[^/]+\/)?[^/ :]+)/.exec(name)![1]!;
  if (/ node:/.test(name) || name.startsWith('node:')) return "Node's JavaScript";
  if (name.startsWith('Builtins_') || name.startsWith('Builtin:')) return "V8's builtins";
  if (/^(v8::|node::|uv_|Builtins_)/.test(name)) return 'V8 and Node C++';
  if (/crypto|EVP_|OPENSSL|ossl_|SHA|sha\d|aesni|gcm/i.test(name)) return 'OpenSSL';
  if (/^0x|compiled code/.test(name)) return 'compiled code, unnamed';
  return 'C++ and libraries';
}

const counted = await countSections('bench/requests-run.ts', [library, scenario], {
  env: { COUNT_ROUNDS: '1' },
  valgrind: ['--dump-instr=yes', '--dump-line=no'],
  node: ['--perf-basic-prof', '--no-compact-code-space'],
  keep: true,
});
const [dump] = counted.dumps.get(scenario) ?? [];
if (!dump) throw new Error(`no measured part named ${scenario}`);
const { self: costs, callers } = profileOf(dump, perfMap(counted.pid));
const total = [...costs.values()].reduce((a, b) => a + b, 0);
const per = (v: number) => (v / counted.n / 1000).toFixed(2);
const cell = (name: string) => jsName(name).replace(/\|/g, '\\|');
console.log(`${library} ${scenario}: ${per(total)}k instructions per request (self, by function)\n`);
const byGroup = new Map<string, number>();
for (const [name, v] of costs) byGroup.set(groupOf(name), (byGroup.get(groupOf(name)) ?? 0) + v);
console.log('| group | k instructions per request |\n|---|--:|');
for (const [g, v] of [...byGroup].sort((a, b) => b[1] - a[1])) console.log(`| ${g} | ${per(v)} |`);
console.log(
  '\n| function | k instructions per request | its main callers (k instructions of their calls) |\n|---|--:|---|',
);
for (const [name, v] of [...costs].sort((a, b) => b[1] - a[1]).slice(0, ROWS)) {
  const from = [...(callers.get(name) ?? [])]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([caller, c]) => `${cell(caller)} ${per(c)}`)
    .join('; ');
  console.log(`| ${cell(name)} | ${per(v)} | ${from} |`);
}
// Inclusive instructions of this library's functions: their own, and those of the calls they make
// (what V8 and Node do for them included). Functions V8 inlined into their callers count there.
const outgoing = new Map<string, number>();
for (const [callee, from] of callers) {
  for (const [caller, c] of from) if (caller !== callee) outgoing.set(caller, (outgoing.get(caller) ?? 0) + c);
}
console.log("\n| this library's function | inclusive k instructions per request | self |\n|---|--:|--:|");
const ours = [...new Set([...costs.keys(), ...outgoing.keys()])].filter((name) => groupOf(name) === 'this library');
for (const name of ours
  .map((name) => [name, (costs.get(name) ?? 0) + (outgoing.get(name) ?? 0)] as const)
  .sort((a, b) => b[1] - a[1])
  .slice(0, ROWS)
  .map(([name]) => name)) {
  const inclusive = (costs.get(name) ?? 0) + (outgoing.get(name) ?? 0);
  console.log(`| ${cell(name)} | ${per(inclusive)} | ${per(costs.get(name) ?? 0)} |`);
}
for (const name of asked) {
  console.log(`\ncallers of ${name}:`);
  for (const [caller, c] of [...(callers.get(name) ?? [])].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${per(c)}k  ${cell(caller)}`);
  }
}
