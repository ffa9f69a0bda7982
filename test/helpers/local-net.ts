// Small helpers for unit tests that open real loopback sockets.
import { createServer } from 'node:net';
import type { Logger } from '../../runtime/api/index.ts';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

/** A logger that drops everything. */
export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
