/**
 * The Koa majors the tests run on, and the signing keys of their apps.
 */
import { createRequire } from 'node:module';
import Koa from 'koa';

const require = createRequire(import.meta.url);
/** Koa 2, installed under the alias `koa2`; same public API as Koa 3 for what the tests use. */
export const Koa2 = require('koa2') as typeof Koa;

export type KoaClass = typeof Koa;

/** Every core test runs on both majors: `describe.each(KOA_VERSIONS)('$name', ({ Koa }) => ...)`. */
export const KOA_VERSIONS: { name: string; Koa: KoaClass }[] = [
  { name: 'Koa 3', Koa },
  { name: 'Koa 2', Koa: Koa2 },
];

/** `app.keys` of the test apps: the cookies' signatures. */
export const KEYS = ['keys', 'keykeys'];
