import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packBatch, unpackBatch, type BatchEntry } from '../../../../../runtime/worker/threaded-task/batch-codec.ts';

test('a packed batch unpacks to the same records, in order, with dropped ones and their partition indexes', () => {
  const entries: BatchEntry[] = [
    { record: { topic: 'pika.db0', key: Buffer.from('k1'), value: Buffer.from('{"v":1}'), timestamp: 1_700_000_000_123, partitionKey: Buffer.from('user:1') } },
    { droppedBy: 'filter.keys' },
    { record: { topic: 'pika.db1 é', key: null, value: null, partition: 3, headers: { a: 'text', b: Buffer.from([0, 255]) } } },
    { record: { topic: 'pika.db0', key: Buffer.alloc(0), value: Buffer.from('x'), timestamp: 5 } },
  ];
  const { buffer, topics } = packBatch(entries, [0, 1, 1, 0]);
  assert.deepEqual(topics, ['pika.db0', 'pika.db1 é'], 'each topic once, in order of appearance');
  const { entries: out, partitionIndexes } = unpackBatch(buffer, topics);
  assert.deepEqual([...partitionIndexes], [0, 1, 1, 0]);
  assert.equal(out.length, 4);
  assert.deepEqual(out[0], entries[0]);
  assert.deepEqual(out[1], { droppedBy: 'filter.keys' });
  assert.deepEqual(out[2], { record: { topic: 'pika.db1 é', key: null, value: null, partition: 3, headers: { a: Buffer.from('text'), b: Buffer.from([0, 255]) } } });
  assert.deepEqual(out[3], entries[3]);
});

test('unpacked keys and values are views of the transferred buffer, not copies', () => {
  const { buffer, topics } = packBatch([{ record: { topic: 't', key: Buffer.from('key'), value: Buffer.from('value') } }], [0]);
  const { entries } = unpackBatch(buffer, topics);
  assert.equal(entries[0]!.record!.value!.buffer, buffer);
});

test('an empty batch round-trips', () => {
  const { buffer, topics } = packBatch([], []);
  assert.deepEqual(unpackBatch(buffer, topics).entries, []);
});

test('a truncated or corrupt batch is refused with the reason, never read past its end', () => {
  const { buffer, topics } = packBatch([{ record: { topic: 't', key: Buffer.from('key'), value: Buffer.from('value') } }], [0]);
  assert.throws(() => unpackBatch(buffer.slice(0, buffer.byteLength - 3), topics), /malformed batch \(truncated/);
  assert.throws(() => unpackBatch(buffer, []), /malformed batch \(topic index 0 of 0/);
  const bad = buffer.slice(0);
  new Uint8Array(bad)[4] = 7;
  assert.throws(() => unpackBatch(bad, topics), /unknown record kind 7/);
  const longer = new ArrayBuffer(buffer.byteLength + 1);
  new Uint8Array(longer).set(new Uint8Array(buffer));
  assert.throws(() => unpackBatch(longer, topics), /trailing bytes/);
});

test('packBatch needs one partition index per record', () => {
  assert.throws(() => packBatch([{ droppedBy: 'x' }], []), /1 entries but 0 partition indexes/);
});
