/** Runs a Fastify app as a process: listens, and on SIGTERM/SIGINT drains and closes everything once. */
import type { FastifyInstance } from 'fastify';

export interface ServeOptions {
  host: string;
  port: number;
  /** After this, the process exits even if something has not closed. */
  shutdownTimeoutMs: number;
  onListening?: (url: string) => void;
}

export async function serve(app: FastifyInstance, options: ServeOptions): Promise<string> {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: draining HTTP, closing workers, Redis and the store');
    const timer = setTimeout(() => {
      app.log.error(`shutdown took longer than ${options.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, options.shutdownTimeoutMs + 2000);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${host}:${port}`;
  options.onListening?.(url);
  return url;
}
