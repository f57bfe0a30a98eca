/**
 * The floors under a request's session work, each measured on its own: what a request cannot cost
 * less than while it checks a signature, copies a session out of the store, checks it for changes,
 * or seals it (docs/performance.md, The floors). Each is the library's own code where it has one,
 * or the Node call it rests on, on the benchmark's session (the counter app's `{ cookie, count }`).
 *
 *   npx tsx bench/floors.ts                 ns per operation: the fastest and the median round
 *   npx tsx bench/floors.ts --instructions  CPU instructions per operation, under callgrind
 *
 * Environment: FLOORS_N (operations per round, default 200), FLOORS_ROUNDS (200). Callgrind counts
 * instructions, not time: OpenSSL's locks and Node's objects cost more time per instruction than
 * JSON does, and under valgrind OpenSSL runs without the CPU's SHA extensions, so the two columns
 * rank the crypto floors differently; the times are what a request pays.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { DEFAULT_COOKIE } from '../src/middleware/option-values.js';
import { sign, signatureIndex } from '../src/middleware/http/cookie-signature.js';
import { randomSid } from '../src/middleware/http/random-sid.js';
import { reviveSession } from '../src/stores/revive.js';
import { seal, sealKey, unseal } from '../src/stores/seal.js';
import { hashSid } from '../src/stores/sid-hash.js';
import { APP_KEYS } from './servers/common.js';
import { countSections, median } from './callgrind.js';
import { measured, printSections } from './sections.js';

const N = Number(process.env.FLOORS_N ?? 200);
const ROUNDS = Number(process.env.FLOORS_ROUNDS ?? 200);
const WARMUP = 20_000;

const session = { cookie: { ...DEFAULT_COOKIE }, count: 41 };
const json = JSON.stringify(session);
const sid = randomSid(24);
const key = `koa:sess:${hashSid(sid)}`;
const cookie = `koa.sid=${sid}`;
const signature = sign(APP_KEYS, cookie);
// The signature is remembered once verified: the next checks are the remembered path.
signatureIndex(APP_KEYS, cookie, signature);
/** Each seal floor has a store key of its own, so that none changes what another remembers. */
const [sealKeyOf, openKeyOf, decryptKeyOf] = ['seal', 'open', 'decrypt'].map((k) => `koa:sess:${k}:${hashSid(sid)}`);
// A value read back makes its key remembered, as after a session's first request.
unseal(sid, sealKeyOf!, seal(sid, sealKeyOf!, json));
const sealed = seal(sid, openKeyOf!, json);
unseal(sid, openKeyOf!, sealed);
let sink: unknown;

/** HKDF-SHA256 as seal.ts wrote it before: two `createHmac` objects (a reference for its floor). */
function sealKeyWithCreateHmac(sid: string, key: string): Buffer {
  const prk = createHmac('sha256', 'koa-session-machine/seal/v1').update(sid).digest();
  return createHmac('sha256', prk).update(key).update(Buffer.of(1)).digest();
}

/** [name, what it is, one operation]. */
const FLOORS: [string, string, () => unknown][] = [
  [
    'signature, remembered',
    'a returning cookie: its signature looked up and compared',
    () => signatureIndex(APP_KEYS, cookie, signature),
  ],
  ['signature, new sid', "a new sid's cookie signature (HMAC-SHA1, two one-shot hashes)", () => sign(APP_KEYS, cookie)],
  [
    'signature with createHmac',
    'the same HMAC-SHA1 with a createHmac object (as Keygrip makes it)',
    () => createHmac('sha1', APP_KEYS[0]!).update(cookie).digest('base64url'),
  ],
  ['sid', 'a new sid (24 bytes from the pool)', () => randomSid(24)],
  ['JSON.stringify', 'the session serialized (the change check, the write)', () => JSON.stringify(session)],
  ['store copy', 'the session parsed and revived from stored JSON (a read)', () => reviveSession(JSON.parse(json))],
  [
    'change check',
    'the session serialized and compared with its JSON when first seen',
    () => JSON.stringify(session) === json,
  ],
  ['SHA-256 of a sid', 'hashIds: the store key (one-shot hash)', () => hashSid(sid)],
  ['HKDF key', "seal: a sid's sealing key (two HMAC-SHA256 of one-shot hashes)", () => sealKey(sid, key)],
  ['HKDF with createHmac', 'the same key from two createHmac objects', () => sealKeyWithCreateHmac(sid, key)],
  ['randomBytes(12)', 'one call to the CSPRNG (what a GCM nonce cost before the pool)', () => randomBytes(12)],
  [
    'AES-256-GCM seal',
    'seal: the JSON sealed (key remembered, nonce from the pool)',
    () => seal(sid, sealKeyOf!, json),
  ],
  [
    'open, remembered',
    'seal: the value this process last sealed or opened, opened',
    () => unseal(sid, openKeyOf!, sealed),
  ],
  ['AES-256-GCM open', 'seal: a value opened by decrypting it', () => unseal(sid, decryptKeyOf!, other())],
];

/** A value sealed under `key` by someone else each time: never the remembered one. */
const others = [0, 1].map((n) => seal(sid, decryptKeyOf!, JSON.stringify({ ...session, count: n })));
let turn = 0;
function other(): string {
  // Opening one makes it the remembered value: the other one, opened next, is decrypted.
  turn ^= 1;
  return others[turn]!;
}

const run = (fn: () => unknown) => () => {
  sink = fn();
};

if (process.env.FLOORS_MODE === 'sections') {
  for (const [name, , fn] of FLOORS) await measured(name, N, ROUNDS, WARMUP, run(fn));
  printSections(N);
} else if (process.argv.includes('--instructions')) {
  const counted = await countSections('bench/floors.ts', [], {
    env: { FLOORS_MODE: 'sections', FLOORS_N: '5000', FLOORS_ROUNDS: '3' },
  });
  console.log('| floor | what | instructions per operation |');
  console.log('|---|---|--:|');
  for (const [name, what] of FLOORS) {
    console.log(`| ${name} | ${what} | ${(median(counted.parts.get(name)!) / counted.n).toFixed(0)} |`);
  }
} else {
  // Short rounds, the floors taking turns: a round the machine interrupts is slow for one floor,
  // and the fastest rounds are the floor's cost when nothing else runs.
  const ops = FLOORS.map(([, , fn]) => run(fn));
  for (const op of ops) for (let i = 0; i < WARMUP; i++) op();
  const times: number[][] = FLOORS.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    ops.forEach((op, k) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < N; i++) op();
      times[k]!.push(Number(process.hrtime.bigint() - start) / N);
    });
  }
  console.log('| floor | what | ns per operation: fastest round | median round |');
  console.log('|---|---|--:|--:|');
  FLOORS.forEach(([name, what], k) => {
    const t = times[k]!;
    console.log(`| ${name} | ${what} | ${Math.min(...t).toFixed(0)} | ${median(t).toFixed(0)} |`);
  });
}
if (sink === Symbol.for('never')) console.log(sink);
