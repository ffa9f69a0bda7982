// task.thread.enable=true end to end: the Pika source task and its converters run on a worker thread of the worker
// child process, the main thread keeps the Kafka producer, the transactions and the offsets. Commands written to
// the test master appear once each and in binlog order; a restart resumes from the committed offset; a SIGKILL
// under a write load loses and duplicates nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { readAllCommitted, type CommittedRecord } from '../../helpers/kafka.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { runWorkload, WORKLOAD } from './pika-workload.ts';
import { committedPositions, pikaRun, sleep, taskStatus, waitCaughtUp, waitStreaming } from './pika-harness.ts';

const events = (records: CommittedRecord[]): PikaEvent[] =>
  records.map((r) => JSON.parse(r.value!.toString()) as PikaEvent)
    .sort((a, b) => a.db - b.db || a.binlog!.filenum - b.binlog!.filenum || a.binlog!.offset - b.binlog!.offset || a.event_id.localeCompare(b.event_id));

test('task.thread.enable: every event once, in binlog order; a restart resumes from the committed offset', { timeout: 180_000 }, async () => {
  const master = await startPikaMaster({ dbs: 2 });
  const run = pikaRun(master, { 'task.thread.enable': 'true' });
  let worker = run.start();
  try {
    await waitStreaming(master, [0, 1], worker);
    // Both DBs get writes before the restart (a DB without a committed offset would restart at the master's
    // current position under snapshot.mode=never and skip what was written while the connector was down).
    const firstDb1 = WORKLOAD.find((c) => c.db === 1)!;
    const before = WORKLOAD.filter((c, i) => (c.db === 0 && i < 12) || c === firstDb1);
    const after = WORKLOAD.filter((c) => !before.includes(c));
    await runWorkload(master.ports.resp, before);
    await waitCaughtUp(master, run, [0, 1], worker);
    const status = await taskStatus(run, worker);
    assert.ok(Object.keys(status).length > 0, 'the task thread reports its status to the REST API');
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
    await runWorkload(master.ports.resp, after); // written while the connector is down
    worker = run.start();
    await waitCaughtUp(master, run, [0, 1], worker);
    assert.match(worker.log, /resuming from the committed offset/, 'the task thread got the committed offsets');
    assert.equal(await worker.kill('SIGTERM'), 0);
    const got = events(await readAllCommitted(`pika.${run.cluster}.binlog`));
    const expected = [0, 1].flatMap((db) => WORKLOAD.filter((c) => c.db === db).flatMap((c) => c.events.map(([op, key]) => [db, op, key])));
    assert.deepEqual(got.map((e) => [e.db, e.op, e.key]), expected);
  } finally {
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});

test('task.thread.enable: SIGKILL of the worker during a write load loses and duplicates nothing', { timeout: 180_000 }, async () => {
  const master = await startPikaMaster({ dbs: 1 });
  const run = pikaRun(master, { 'task.thread.enable': 'true' });
  let worker = run.start();
  let seq = 0;
  let writer: NodeJS.Timeout | undefined;
  try {
    await waitStreaming(master, [0], worker);
    writer = setInterval(() => {
      for (let i = 0; i < 10; i++, seq++) master.exec(0, ['SET', `k${seq % 20}`, String(seq)]);
    }, 20);
    for (let kill = 0; kill < 2; kill++) {
      if (kill > 0) worker = run.start();
      const before = JSON.stringify([...committedPositions(run)]);
      while (JSON.stringify([...committedPositions(run)]) === before || !committedPositions(run).has(0)) {
        assert.equal(worker.child.exitCode, null, `worker exited early; log tail:\n${worker.log.slice(-3000)}`);
        await sleep(50);
      }
      await sleep(300 + kill * 400);
      await worker.kill('SIGKILL');
    }
    clearInterval(writer);
    writer = undefined;
    const written = seq;
    worker = run.start();
    await waitCaughtUp(master, run, [0], worker);
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
    const records = await readAllCommitted(`pika.${run.cluster}.binlog`);
    const seen = records.map((r) => Number(Buffer.from((JSON.parse(r.value!.toString()) as PikaEvent).args_b64[1]!, 'base64').toString()));
    assert.equal(seen.length, written, 'as many events as writes');
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: written }, (_, i) => i), 'every write exactly once');
    const perKey = new Map<number, number[]>();
    for (const s of seen) perKey.set(s % 20, [...(perKey.get(s % 20) ?? []), s]);
    for (const [key, list] of perKey) assert.deepEqual(list, [...list].sort((a, b) => a - b), `k${key} in write order`);
  } finally {
    if (writer) clearInterval(writer);
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});
