// patches/kafkajs+2.2.4.patch rewrites kafkajs's grouping of a send's messages per partition (linear instead of
// quadratic). Per-key order depends on it: each partition's messages must keep the order of the send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
type Message = { key: string; value: string };
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition.js') as (args: {
  topic: string; partitionMetadata: Array<{ partitionId: number }>; messages: Message[];
  partitioner: (args: { message: Message }) => number;
}) => Record<string, Message[]>;

test('messages are grouped by the partitioner\'s choice, each partition keeping the order of the send', () => {
  const messages = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i % 7}`, value: String(i) }));
  const partitionOf = (m: Message): number => Number(m.key.slice(1)) % 3;
  const grouped = groupMessagesPerPartition({
    topic: 't', partitionMetadata: [0, 1, 2].map((partitionId) => ({ partitionId })), messages, partitioner: ({ message }) => partitionOf(message),
  });
  assert.deepEqual(Object.keys(grouped).sort(), ['0', '1', '2']);
  for (const p of [0, 1, 2]) assert.deepEqual(grouped[p], messages.filter((m) => partitionOf(m) === p));
});

test('no partition metadata: nothing is grouped', () => {
  assert.deepEqual(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ key: 'a', value: 'b' }], partitioner: () => 0 }), {});
});
