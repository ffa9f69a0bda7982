import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckTracker } from '../../../../../connector/pika/replication/ack-tracker.ts';

const at = (offset: number) => ({ filenum: 0, offset, term: 0, index: offset });

test('only the fully committed prefix is acknowledged, as one range per DB', () => {
  const t = new AckTracker();
  const a = t.track('db0', 1, at(10), 1);
  const b = t.track('db0', 1, at(20), 2); // one item, two records (e.g. DEL k1 k2)
  const c = t.track('db0', 1, at(30), 1);
  t.committed(c);
  assert.deepEqual(t.drain(), [], 'a later item committed first acknowledges nothing');
  t.committed(a);
  t.committed(b);
  assert.deepEqual(t.drain().map((r) => [r.start.offset, r.end.offset, r.items]), [[10, 10, 1]], 'the item with one record still in flight blocks the rest');
  t.committed(b);
  assert.deepEqual(t.drain().map((r) => [r.start.offset, r.end.offset, r.items]), [[20, 30, 2]]);
  assert.deepEqual(t.drain(), [], 'never acknowledged twice');
  assert.equal(t.pending, 0);
});

test('items without records (padding) are acknowledged with their neighbours; DBs are independent', () => {
  const t = new AckTracker();
  const a = t.track('db0', 1, at(10), 1);
  t.track('db0', 1, at(20), 0);
  const x = t.track('db1', 1, at(5), 1);
  t.committed(x);
  assert.deepEqual(t.drain().map((r) => [r.db, r.start.offset, r.end.offset]), [['db1', 5, 5]]);
  t.committed(a);
  assert.deepEqual(t.drain().map((r) => [r.db, r.start.offset, r.end.offset]), [['db0', 10, 20]]);
});

test('a range never spans two connection generations', () => {
  const t = new AckTracker();
  const items = [t.track('db0', 1, at(10), 1), t.track('db0', 2, at(20), 1), t.track('db0', 2, at(30), 1)];
  for (const i of items) t.committed(i);
  assert.deepEqual(t.drain().map((r) => [r.generation, r.start.offset, r.end.offset]), [[1, 10, 10], [2, 20, 30]]);
});

test('committing a record more often than the item has records is a bug that is reported', () => {
  const t = new AckTracker();
  const a = t.track('db0', 1, at(10), 1);
  t.committed(a);
  assert.throws(() => t.committed(a), /committed more often/);
});
