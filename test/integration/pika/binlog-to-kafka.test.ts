// End to end, single stream mode: commands written to the test master's RESP port → Pika connector in a worker child
// process → one topic (topic.single), read back with read_committed; a restart resumes from the committed offset
// without duplicates. (Dual mode per test-master profile: e2e-events.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { readAllCommitted, uniqueName, type CommittedRecord } from '../../helpers/kafka.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { runWorkload, WORKLOAD } from './pika-workload.ts';
import { pikaRun, waitCaughtUp, waitStreaming } from './pika-harness.ts';

const events = (records: CommittedRecord[]): Array<{ record: CommittedRecord; event: PikaEvent }> =>
  records.map((record) => ({ record, event: JSON.parse(record.value!.toString()) as PikaEvent }));

test('single mode, pika.dbs=db1 only: events go to topic.single; a restart resumes from the committed offset without duplicates', { timeout: 240_000 }, async () => {
  const master = await startPikaMaster({ dbs: 2 });
  const topic = uniqueName('pika-single');
  const run = pikaRun(master, { 'stream.mode': 'single', 'topic.single': topic, 'pika.dbs': 'db1' });
  let worker = run.start();
  try {
    await waitStreaming(master, [1], worker);
    const db1 = WORKLOAD.filter((c) => c.db === 1);
    await runWorkload(master.ports.resp, db1.slice(0, 2));
    await waitCaughtUp(master, run, [1], worker);
    assert.equal(await worker.kill('SIGTERM'), 0);
    await runWorkload(master.ports.resp, db1.slice(2)); // written while the connector is down
    worker = run.start();
    await waitCaughtUp(master, run, [1], worker);
    assert.match(worker.log, /resuming from the committed offset/);
    assert.equal(await worker.kill('SIGTERM'), 0);
    const got = events(await readAllCommitted(topic)).sort((a, b) => a.event.binlog!.offset - b.event.binlog!.offset);
    assert.deepEqual(got.map((g) => [g.event.db, g.event.op, g.event.key]), db1.flatMap((c) => c.events.map(([op, key]) => [1, op, key])));
    assert.equal(master.repl.dbs[0]!.nodes.size, 0, 'db0 was never asked for');
  } finally {
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});
