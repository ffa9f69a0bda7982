// The chaos audit is only worth its zeros if it sees the anomalies it counts. After a clean run, plant them in the
// real topics: a copy of a committed event in an aborted transaction, read by a consumer that ignores the markers
// (aborted read + duplicate); the same copy in a committed transaction without an offset record (torn + duplicate);
// a write the master recorded that Kafka never got (lost).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { readAllCommitted, transactionalProducer, uniqueName } from '../../helpers/kafka.ts';
import { ChaosRun } from '../../chaos/chaos-run.ts';
import { audit, COMMITTED_READERS } from '../../chaos/audit.ts';
import { readRawLog } from '../../chaos/raw-log.ts';
import { bootstrap } from '../../helpers/kafka.ts';

test('the chaos audit counts planted aborted reads, torn transactions, duplicates and losses', { skip: rocksDbMissing() ?? false, timeout: 240_000 }, async () => {
  const run = new ChaosRun({ bootstrap: bootstrap(), seed: 7, prefillKeys: 200, writesPerSecond: 100 });
  try {
    await run.start();
    run.startWorker();
    await run.waitCaughtUp(180_000);
    await run.settle();
    const input = run.auditInput();
    const clean = await audit(input);
    assert.deepEqual([clean.lost, clean.duplicated, clean.outOfOrder, clean.aborted, clean.torn], [0, 0, 0, 0, 0], clean.notes.join('\n'));

    // An idempotent op, so that replaying it twice in a row leaves the state as it was (the loss count stays 1).
    const idempotent = new Set(['set', 'hset', 'sadd', 'zadd', 'del', 'hdel', 'srem', 'zrem']);
    const victim = (await readAllCommitted(input.binlogTopic)).find((r) => idempotent.has(JSON.parse(r.value!.toString()).op));
    assert.ok(victim);
    const producer = transactionalProducer(uniqueName('planter'));
    await producer.connect();
    try {
      const message = { topic: input.binlogTopic, messages: [{ partition: victim.partition, key: victim.key, value: victim.value }] };
      const aborted = await producer.transaction();
      await aborted.send(message);
      await aborted.abort();
      const committed = await producer.transaction();
      await committed.send(message);
      await committed.commit();
    } finally {
      await producer.disconnect();
    }
    input.written.push({ db: 0, endFilenum: 99, endOffset: 1, key: 'never-sent', op: 'set' });

    const readUncommitted = { name: 'read_uncommitted', read: async (topic: string) => (await readRawLog(topic)).map((r) => ({ ...r, headers: [] })) };
    const planted = await audit({ ...input, readers: [...COMMITTED_READERS, readUncommitted] });
    assert.equal(planted.lost, 1, planted.notes.join('\n'));
    assert.equal(planted.aborted, 1, `only the marker-blind reader returned the aborted copy: ${planted.notes.join('\n')}`);
    assert.equal(planted.duplicated, 2, `committed copy (every reader) + aborted copy (the blind reader): ${planted.notes.join('\n')}`);
    assert.equal(planted.torn, 1, `the committed copy has no offset record of its transaction: ${planted.notes.join('\n')}`);
  } finally {
    await run.stop();
  }
});
