// Helpers for the legacy session/task tests: a free replica port whose +1000 (binlog receiver) is free too.
import { createServer } from 'node:net';

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** A replica port p (announced in TRYSYNC) with p + 1000 free for the binlog receiver. */
export async function freeReplicaPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await isFree(port + 1000)) && (await isFree(port))) return port;
  }
  throw new Error('no free replica port found');
}
