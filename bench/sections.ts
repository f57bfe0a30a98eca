/**
 * Parts of a benchmark script that bench/callgrind.ts counts the CPU instructions of, under
 * valgrind's callgrind. `mark()` calls `process.getegid()`, before which callgrind is told to dump
 * its counters (`--dump-before=getegid`), so each dump holds what ran since the previous mark; the
 * script names each part it marks (`skip` for what is not measured) and prints the names on its
 * last line, which the counter pairs with the dumps. Warm-ups run with callgrind's instrumentation
 * off (turned on and off with `callgrind_control`), which makes them about ten times as fast.
 * Outside valgrind a mark costs one system call and the names are printed all the same.
 */
import { spawn } from 'node:child_process';

const names: string[] = [];
/** Set by bench/callgrind.ts for the scripts it runs. */
const underCallgrind = process.env.KSM_CALLGRIND === '1';

/** Ends the part that ran since the last mark; `name` is what it measured, or `skip`. */
export function mark(name: string): void {
  process.getegid?.();
  names.push(name);
}

/** Turns callgrind's instrumentation of this process on or off (nothing outside valgrind). */
function instrumentation(on: boolean): Promise<void> {
  if (!underCallgrind) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const control = spawn('callgrind_control', ['-i', on ? 'on' : 'off', String(process.pid)], { stdio: 'ignore' });
    control.on('error', reject);
    control.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`callgrind_control exited with ${code}`))));
  });
}

/** Runs `fn` `warmup` times, then `rounds` parts of `n` calls named `name`. */
export async function measured(
  name: string,
  n: number,
  rounds: number,
  warmup: number,
  fn: () => unknown,
): Promise<void> {
  const run = async (times: number) => {
    for (let i = 0; i < times; i++) {
      const done = fn();
      if (done instanceof Promise) await done;
    }
  };
  await run(warmup);
  await instrumentation(true);
  mark('skip');
  for (let r = 0; r < rounds; r++) {
    await run(n);
    mark(name);
  }
  await instrumentation(false);
}

/** The line bench/callgrind.ts reads: every part's name, in order (and this process's pid). */
export function printSections(n: number): void {
  process.stdout.write(`SECTIONS ${JSON.stringify({ n, names, pid: process.pid })}\n`);
}
