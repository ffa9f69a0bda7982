// The test broker supports what exactly-once delivery relies on: records of a transaction become visible to
// read_committed readers only when it commits, and records of an aborted transaction never do. Checked with three
// independent readers (kafkajs, kcat, the shared librdkafka auditor).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Producer } from 'kafkajs';
import {
  auditTopic, bootstrap, createTopic, kafkaClient, kcatReadCommitted, readAllCommitted, transactionalProducer,
  uniqueName, type CommittedRecord,
} from '../helpers/kafka.ts';

const execFileAsync = promisify(execFile);

/** Every record in the log, committed or not (kcat with read_uncommitted): proves uncommitted data was written. */
async function countUncommitted(topic: string): Promise<number> {
  const { stdout } = await execFileAsync('kcat', ['-C', '-b', bootstrap(), '-t', topic, '-o', 'beginning', '-e', '-q',
    '-X', 'isolation.level=read_uncommitted', '-f', '%o\n']);
  return stdout.split('\n').filter(Boolean).length;
}

function event(id: string): string {
  return JSON.stringify({ event_id: id });
}

function summary(records: CommittedRecord[]) {
  return records.map((r) => ({
    partition: r.partition,
    key: r.key?.toString() ?? null,
    value: r.value?.toString() ?? null,
    headers: r.headers.map((h) => `${h.key}=${h.value?.toString()}`),
  }));
}

describe('test broker transactions', () => {
  let producer: Producer;

  before(async () => {
    producer = transactionalProducer(uniqueName('broker-test-txn'));
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
  });

  test('records of an open transaction are hidden from read_committed readers until commit', async () => {
    const topic = uniqueName('txn-commit');
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await createTopic(topic, 2);
    const txn = await producer.transaction();
    await txn.send({
      topic,
      messages: [
        { partition: 0, key: 'k1', value: event('e1'), headers: { source: 'pika' } },
        { partition: 1, key: 'k2', value: event('e2') },
        { partition: 0, key: null, value: event('e3') },
        { partition: 1, key: Buffer.from([0x00, 0x0a, 0xff]), value: binary },
      ],
    });

    assert.equal(await countUncommitted(topic), 4, 'the records are in the log');
    const now = { settleMs: 0 };
    assert.deepEqual(await readAllCommitted(topic, now), [], 'kafkajs read_committed sees nothing before commit');
    assert.deepEqual(await kcatReadCommitted(topic, now), [], 'kcat read_committed sees nothing before commit');

    await txn.commit();

    const expected = [
      { partition: 0, key: 'k1', value: event('e1'), headers: ['source=pika'] },
      { partition: 0, key: null, value: event('e3'), headers: [] },
      { partition: 1, key: 'k2', value: event('e2'), headers: [] },
    ];
    const viaKafkajs = await readAllCommitted(topic);
    const viaKcat = await kcatReadCommitted(topic);
    assert.deepEqual(summary(viaKafkajs.slice(0, 3)), expected);
    assert.deepEqual(viaKafkajs[3]?.key, Buffer.from([0x00, 0x0a, 0xff]), 'binary keys survive');
    assert.deepEqual(viaKafkajs[3]?.value, binary, 'binary values survive');
    assert.equal(viaKafkajs.length, 4);
    assert.deepEqual(viaKcat, viaKafkajs, 'kcat and kafkajs read the same records at the same offsets');
  });

  test('records of an aborted transaction are never visible, the next committed ones are', async () => {
    const topic = uniqueName('txn-abort');
    await createTopic(topic, 1);
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'a', value: event('aborted-1') }, { key: 'a', value: event('aborted-2') }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ key: 'a', value: event('kept-1') }] });
    await committed.commit();

    assert.equal(await countUncommitted(topic), 3, 'aborted records stay in the log');
    const viaKafkajs = await readAllCommitted(topic);
    assert.deepEqual(summary(viaKafkajs), [{ partition: 0, key: 'a', value: event('kept-1'), headers: [] }]);
    assert.deepEqual(await kcatReadCommitted(topic), viaKafkajs);
    const audit = await auditTopic([topic]);
    assert.deepEqual(
      { ok: audit.ok, records: audit.records, duplicates: audit.duplicates, unread: audit.unread },
      { ok: true, records: 1, duplicates: 0, unread: 0 },
    );
  });

  test('the librdkafka auditor reports duplicate ids, order breaks per key and invalid JSON', async () => {
    const topic = uniqueName('audit-problems');
    await createTopic(topic, 1);
    const plain = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1 });
    await plain.connect();
    try {
      await plain.send({
        topic,
        messages: [
          { key: 'a', value: JSON.stringify({ event_id: 'x', pos: { file: 1, offset: 5 } }) },
          { key: 'b', value: JSON.stringify({ event_id: 'y', pos: { file: 0, offset: 9 } }) },
          { key: 'a', value: JSON.stringify({ event_id: 'x', pos: { file: 1, offset: 3 } }) },
          { key: 'c', value: 'not json' },
        ],
      });
    } finally {
      await plain.disconnect();
    }
    const audit = await auditTopic([topic], { order: ['pos.file', 'pos.offset'] });
    assert.deepEqual(
      { ok: audit.ok, records: audit.records, duplicates: audit.duplicates, breaks: audit.order_breaks, invalid: audit.invalid },
      { ok: false, records: 4, duplicates: 1, breaks: 1, invalid: 1 },
    );
  });
});
