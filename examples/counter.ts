/**
 * `npm start`: the counter app on 127.0.0.1, on the embedded MemoryStore, or on Redis when
 * REDIS_URL is set. PORT picks the port (default 3000; 0 for any free one).
 */
import { createCounterApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const app = createCounterApp();
const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`koa-session-machine example (MemoryStore) listening on http://127.0.0.1:${actual}/`);
  console.log('  /get counts up, /read shows the count, /regenerate issues a new sid, /remove logs out');
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
