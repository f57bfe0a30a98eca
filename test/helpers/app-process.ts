/**
 * What the app processes of the cross-process tests share: listen on a free loopback port, print
 * it as the first line of stdout (the parent reads it), and on SIGTERM close the server and the
 * store, then exit.
 */
import type Koa from 'koa';

export function serveAppProcess(app: Koa, store: { close(): Promise<unknown> }): void {
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(typeof address === 'object' && address ? address.port : 0);
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close();
    void store.close().finally(() => process.exit(0));
  });
}
