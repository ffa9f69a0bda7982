// A binlog purged while the connector was down: the worker logs the gap with the positions and the
// snapshot.on.gap decision, and the task fails instead of skipping the lost changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { pikaRun, sleep, waitCaughtUp, waitStreaming } from './pika-harness.ts';

test('binlog purged while the connector was down: a logged, counted gap and a failed task (snapshot.on.gap=fail), never a silent skip', { timeout: 240_000 }, async () => {
  const master = await startPikaMaster({ binlogFileSize: 1024, expireLogsNums: 10 });
  const run = pikaRun(master, { 'snapshot.on.gap': 'fail' });
  let worker = run.start();
  try {
    await waitStreaming(master, [0], worker);
    master.exec(0, ['SET', 'k', 'v']);
    await waitCaughtUp(master, run, [0], worker);
    assert.equal(await worker.kill('SIGTERM'), 0);
    for (let i = 0; i < 400; i++) master.exec(0, ['SET', `key${i}`, 'x'.repeat(60)]); // > 10 files: the oldest are purged
    worker = run.start();
    const deadline = Date.now() + 60_000;
    while (!/kSyncPointBePurged/.test(worker.log)) {
      assert.ok(Date.now() < deadline && worker.child.exitCode === null, `no gap reported; log tail:\n${worker.log.slice(-3000)}`);
      await sleep(100);
    }
    await sleep(500);
    assert.match(worker.log, /binlog gap/);
    assert.match(worker.log, /snapshot\.on\.gap=fail: the task stops/);
  } finally {
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});
