/**
 * Runs a script of marked parts (bench/sections.ts) under valgrind's callgrind and gives each part's
 * instruction count. V8 runs with `--single-threaded` (no background compiler or GC threads, whose
 * instructions callgrind would add to whichever part they ran in); the script turns callgrind's
 * instrumentation on once it is warm.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.js';

export interface Counted {
  /** Iterations per part. */
  n: number;
  /** Each named part's instruction counts, in order (parts named `skip` are left out). */
  parts: Map<string, number[]>;
  /** With `keep`: each named part's callgrind dump, in order (for bench/instruction-profile.ts). */
  dumps: Map<string, string[]>;
  /** The pid of the process counted (its perf map, with `--perf-basic-prof`, is /tmp/perf-<pid>.map). */
  pid: number;
}

export interface CountOptions {
  /** Environment for the script. */
  env?: Record<string, string>;
  /** More arguments for valgrind (before the program). */
  valgrind?: string[];
  /** More flags for node. */
  node?: string[];
  /** Keep the dumps' text (they are large with `--dump-instr=yes`). */
  keep?: boolean;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function countSections(script: string, args: string[], options: CountOptions = {}): Promise<Counted> {
  const { env = {}, valgrind = [], node = [], keep = false } = options;
  const dir = mkdtempSync(join(tmpdir(), 'ksm-callgrind-'));
  try {
    const out = join(dir, 'callgrind.out');
    const run = spawnSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--dump-before=getegid',
        '--instr-atstart=no',
        `--callgrind-out-file=${out}`,
        ...valgrind,
        process.execPath,
        '--single-threaded',
        ...node,
        '--import',
        'tsx',
        script,
        ...args,
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NODE_ENV: 'production', KSM_CALLGRIND: '1', ...env },
      },
    );
    if (run.error) throw run.error;
    const line = run.stdout.split('\n').find((l) => l.startsWith('SECTIONS '));
    if (run.status !== 0 || !line)
      throw new Error(`${script} ${args.join(' ')} failed under valgrind:\n${run.stderr.slice(-3000)}`);
    const { n, names, pid } = JSON.parse(line.slice('SECTIONS '.length)) as {
      n: number;
      names: string[];
      pid: number;
    };
    // Each mark dumps what ran since the previous dump: the script's marks made the last dumps
    // before the one at exit (callgrind.out.<k>, numbered in order; the one at exit has no number).
    const numbered = readdirSync(dir)
      .map((f) => /^callgrind\.out\.(\d+)$/.exec(f))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    if (numbered.length < names.length) throw new Error(`expected ${names.length} dumps, found ${numbered.length}`);
    const mine = numbered.slice(numbered.length - names.length);
    const parts = new Map<string, number[]>();
    const dumps = new Map<string, string[]>();
    names.forEach((name, i) => {
      if (name === 'skip') return;
      const text = readFileSync(join(dir, `callgrind.out.${mine[i]}`), 'utf8');
      const total = /^totals: (\d+)/m.exec(text) ?? /^summary: (\d+)/m.exec(text);
      if (!total) throw new Error(`no totals in dump ${mine[i]}`);
      parts.set(name, [...(parts.get(name) ?? []), Number(total[1])]);
      if (keep) dumps.set(name, [...(dumps.get(name) ?? []), text]);
    });
    return { n, parts, dumps, pid };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
