import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ItemQueue } from '../../../../../connector/pika/replication/item-queue.ts';

test('a waiting take wakes when items arrive, and takes them oldest first in batches of at most max', async () => {
  const q = new ItemQueue<number>(100);
  const waiting = q.waitForItems(60_000);
  q.push(1);
  q.push(2);
  q.push(3);
  assert.equal(q.arrived(), false, 'below the bound: reading goes on');
  await waiting;
  assert.deepEqual(q.take(2).items, [1, 2]);
  assert.deepEqual(q.take(2).items, [3]);
  assert.deepEqual(q.take(2).items, []);
});

test('wake() and an aborted signal end a wait on an empty queue', async () => {
  const q = new ItemQueue<number>(10);
  const waiting = q.waitForItems(60_000);
  q.wake();
  await waiting;
  const abort = new AbortController();
  const aborted = q.waitForItems(60_000, abort.signal);
  abort.abort();
  await aborted;
  assert.equal(q.length, 0);
});

test('reading pauses at the bound and resumes once takes drained the queue below half of it; a new reader starts unpaused', () => {
  const q = new ItemQueue<number>(4);
  for (let i = 0; i < 3; i++) q.push(i);
  assert.equal(q.arrived(), false);
  q.push(3);
  assert.equal(q.arrived(), true, 'the bound is reached: pause reading');
  q.push(4);
  assert.equal(q.arrived(), false, 'already paused');
  assert.equal(q.take(2).resume, false, '3 left: not below half');
  assert.equal(q.take(2).resume, true, '1 left: resume reading');
  assert.equal(q.take(2).resume, false);
  for (let i = 0; i < 4; i++) q.push(i);
  assert.equal(q.arrived(), true);
  q.readerEnded();
  assert.equal(q.take(4).resume, false, 'the ended reader is not resumed');
});
