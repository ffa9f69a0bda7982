import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerProcess, tempDir, writeProperties } from '../../../helpers/worker-process.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';

/** A port nothing listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('an unreachable broker is a clear error within a bounded time, not a hang', { timeout: 90_000 }, async () => {
  const dir = tempDir('pc-unreach-');
  const port = await closedPort();
  const worker = writeProperties(dir, 'worker.properties', { 'bootstrap.servers': `127.0.0.1:${port}`, 'offset.checkpoint.dir': join(dir, 'ckpt') });
  const conn = writeProperties(dir, 'c.properties', { name: 'c', 'connector.class': 'synthetic' });
  const started = Date.now();
  const w = new WorkerProcess([worker, conn]);
  const code = await w.wait();
  assert.notEqual(code, 0);
  assert.match(w.log, new RegExp(`Cannot reach Kafka at 127\\.0\\.0\\.1:${port}`));
  assert.ok(Date.now() - started < 80_000);
});

test('bad config files: one error listing every problem with file, line and key; exit code 2; nothing started', { timeout: 60_000 }, async () => {
  const dir = tempDir('pc-badcfg-');
  const worker = join(dir, 'worker.properties');
  writeFileSync(worker, '# worker\nbootstrap.servers=127.0.0.1:9092\noffset.flush.interval.ms=soon\nno.such.key=1\n');
  const conn = join(dir, 'conn.properties');
  writeFileSync(conn, 'connector.class=synthetic\ntasks.max=-3\nsynthetic.rate=fast\n');
  const w = new WorkerProcess([worker, conn]);
  assert.equal(await w.wait(), 2);
  for (const expected of [
    /worker\.properties:3 offset\.flush\.interval\.ms/,
    /worker\.properties:4 no\.such\.key/,
    /conn\.properties:2 tasks\.max/,
    /conn\.properties:3 synthetic\.rate/,
    /conn\.properties.*\bname\b/,
  ]) assert.match(w.log, expected);
});
