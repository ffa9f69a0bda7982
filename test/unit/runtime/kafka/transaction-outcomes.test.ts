import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransactionOutcomes, markerType } from '../../../../runtime/kafka/transaction-outcomes.ts';

const COMMIT = Buffer.from([0, 0, 0, 1]);
const ABORT = Buffer.from([0, 0, 0, 0]);

test('control keys: version int16 then type int16 (0 abort, 1 commit); anything else is not a marker', () => {
  assert.equal(markerType(COMMIT), 'commit');
  assert.equal(markerType(ABORT), 'abort');
  assert.equal(markerType(Buffer.from([0, 0, 0, 5])), undefined);
  assert.equal(markerType(Buffer.from([0, 0])), undefined);
  assert.equal(markerType(null), undefined);
});

test('interleaved producers: committed records kept in log order, aborted and undecided ones left out', () => {
  const log = new TransactionOutcomes<string>();
  log.record(0n, 'A', true, 'a0');
  log.record(1n, 'B', true, 'b1');
  log.record(2n, 'C', true, 'c2 (never decided)');
  log.record(3n, 'A', true, 'a3');
  log.record(4n, 'N', false, 'n4 (not transactional)');
  log.control('B', COMMIT); // B commits first although A began earlier
  log.record(6n, 'B', true, 'b6');
  log.control('A', ABORT);
  log.control('B', COMMIT);
  log.record(9n, 'A', true, 'a9 (next transaction of A)');
  log.control('A', COMMIT);
  assert.deepEqual(log.committed(), ['b1', 'n4 (not transactional)', 'b6', 'a9 (next transaction of A)']);
});

test('a marker for a producer with nothing held changes nothing; a later transaction of it starts fresh', () => {
  const log = new TransactionOutcomes<string>();
  log.control('A', COMMIT);
  log.record(1n, 'A', true, 'a1');
  log.control('A', ABORT);
  log.control('A', COMMIT);
  assert.deepEqual(log.committed(), []);
});

test('a transaction of 200,000 records is committed whole (no argument-list limit on the way)', () => {
  const log = new TransactionOutcomes<number>();
  for (let i = 0; i < 200_000; i++) log.record(BigInt(i), 'A', true, i);
  log.control('A', COMMIT);
  const committed = log.committed();
  assert.equal(committed.length, 200_000);
  assert.equal(committed[199_999], 199_999);
});
