/**
 * `npm start`: the counter app on 127.0.0.1, on the embedded MemoryStore, or on Redis when
 * REDIS_URL is set. PORT picks the port (default 3000; 0 for any free one).
 */
import { RedisStore } from '../src/index.js';
import { createCounterApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const redisUrl = process.env.REDIS_URL;
const store = redisUrl ? new RedisStore({ url: redisUrl }) : undefined;
const app = createCounterApp(store ? { store } : {});
const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(
    `koa-session-machine example (${store ? `RedisStore at ${redisUrl}` : 'MemoryStore'}) listening on http://127.0.0.1:${actual}/`,
  );
  console.log('  /get counts up, /read shows the count, /regenerate issues a new sid, /remove logs out');
});
// Graceful shutdown: stop taking requests, then close the store (RedisStore quits its client).
const stop = () => server.close(() => void Promise.resolve(store?.close()).then(() => process.exit(0)));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
