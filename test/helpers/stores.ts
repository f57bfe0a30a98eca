// TEMPORARY, removed once the test files being merged move to test/helpers/apps.ts and its neighbours.
import Koa from 'koa';
import type { SessionOptions } from '../../src/index.js';
import { startApp, type AppSetup, type Handler } from './apps.js';
import type { KoaClass } from './koa.js';

export { closeApps as closeServers } from './apps.js';
export { cookieOf } from './set-cookies.js';
export { KOA_VERSIONS as KOAS } from './koa.js';
export { PREFIX } from './store-keys.js';
export { RecordingStore } from './recording-store.js';

export function serve(
  options: SessionOptions | undefined,
  handler: Handler,
  setup: AppSetup & { Koa?: KoaClass } = {},
) {
  const { Koa: KoaCtor = Koa, ...rest } = setup;
  return startApp(KoaCtor, options, handler, rest);
}
