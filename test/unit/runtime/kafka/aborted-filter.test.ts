import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

// kafkajs's read_committed filter, as patched by patches/kafkajs+2.2.4.patch (applied by npm's postinstall).
const require = createRequire(import.meta.url);
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages.js') as (a: { messages: unknown[]; abortedTransactions: unknown[] }) => Array<{ offset: string }>;

const data = (offset: number, producerId: string) => ({ offset: String(offset), key: Buffer.from('k'), batchContext: { producerId, inTransaction: true } });
const abortMarker = (offset: number, producerId: string) => ({ offset: String(offset), key: Buffer.from([0, 0, 0, 0]), isControlRecord: true, batchContext: { producerId, inTransaction: true } });

test('records of aborted transactions of two producers interleaved on one partition are all filtered', () => {
  // A (pid 1) and B (pid 2) both abort; their records interleave, as two tasks writing one offsets partition do.
  const messages = [data(0, '1'), data(1, '2'), data(2, '1'), data(3, '2'), abortMarker(4, '1'), abortMarker(5, '2'), data(6, '1')];
  const abortedTransactions = [{ producerId: '2', firstOffset: '1' }, { producerId: '1', firstOffset: '0' }];
  const kept = filterAbortedMessages({ messages, abortedTransactions }).filter((m) => !(m as { isControlRecord?: boolean }).isControlRecord);
  assert.deepEqual(kept.map((m) => m.offset), ['6'], 'only the record after both aborts is committed data');
});
