import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBinlogItem, encodeBinlogItem } from '../../../../../connector/pika/binlog/item.ts';
import type { ReceivedItem } from '../../../../../connector/pika/replication/session.ts';
import { SpillCoordinator, type SpillSource } from '../../../../../connector/pika/spill/spill-coordinator.ts';
import { recordingLogger, waitFor } from '../replication/session-helpers.ts';

function received(n: number): ReceivedItem {
  const content = Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${String(n).length}\r\n${n}\r\n`);
  const item = decodeBinlogItem(encodeBinlogItem({ execTime: 1, termId: 0, logicId: n, start: { filenum: 1, offset: (n - 1) * 100 } }, content));
  return { db: 'db0', generation: 1, item, end: { filenum: 1, offset: n * 100, term: 0, index: n } };
}

interface FakeSource extends SpillSource {
  acks: Array<{ start: number; end: number; items: number }>;
}

/** Items 1..3 await their commit; the session then delivers 4 and 5. */
function fakeSource(): FakeSource {
  let live = [received(4), received(5)];
  const acks: FakeSource['acks'] = [];
  return {
    acks,
    master: () => ({ replicationId: 'rid', profile: '4.0' }),
    takeUnacked: () => [received(1), received(2), received(3)],
    pending: () => true,
    take: async (max) => {
      const out = live.slice(0, max);
      live = live.slice(max);
      if (out.length === 0) await new Promise((r) => setTimeout(r, 5));
      return out;
    },
    acknowledge: (_db, _generation, start, end, items) => { acks.push({ start: start.offset / 100, end: end.offset / 100, items }); },
  };
}

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pc-spillc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const settings = (dir: string, maxBytes = 1 << 20) => ({ dir, maxBytes, afterMs: 50, batchItems: 100 });
const noCommits = { committed: new Map(), replayWithoutOffset: false, fullSyncAlways: false };

test('no commit for spill.after.ms: pending and new items are logged, then acked; poll gets them once; the log is trimmed after their commit', async (t) => {
  const dir = scratch(t);
  const logger = recordingLogger();
  const spill = await SpillCoordinator.open(settings(dir), noCommits, logger);
  const source = fakeSource();
  spill.attach(source);
  await waitFor(() => source.acks.reduce((n, a) => n + a.items, 0) === 5, 'acks of all 5 items');
  assert.deepEqual(source.acks.map((a) => [a.start, a.end]), [[1, 3], [4, 5]], 'acked in order, as ranges');
  assert.match(logger.lines.find((l) => l.level === 'warn')!.msg, /no Kafka commit for spill\.after\.ms/);
  assert.equal((spill.status() as { records: number }).records, 5, 'every acked item is in the log');

  // Items 1 and 2 were handed to the runtime before spilling began: they are not served again.
  spill.noteServed('db0', received(2).end);
  assert.equal(await spill.replaying(), true);
  const served = await spill.next(100);
  assert.deepEqual(served.map((s) => s.item.logicId), [3, 4, 5]);
  assert.deepEqual(served[2]!.item.argv.map(String), ['SET', 'k', '5']);
  assert.deepEqual(served[2]!.end, received(5).end);

  spill.noteCommitted('db0', received(5).end);
  await spill.afterCommit();
  assert.equal(await spill.replaying(), false, 'served to its end and Kafka commits again: back to live items');
  assert.equal((spill.status() as { records: number }).records, 0, 'committed segments are deleted');
  await spill.close();
});

test('after a restart the committed offset decides: items after it are replayed, the master resumes after the last logged item', async (t) => {
  const dir = scratch(t);
  const first = await SpillCoordinator.open(settings(dir), noCommits, recordingLogger());
  const source = fakeSource();
  first.attach(source);
  await waitFor(() => source.acks.reduce((n, a) => n + a.items, 0) === 5, 'acks of all 5 items');
  await first.close();

  const committed = new Map([['db0', { filenum: 1, offset: 300 }]]);
  const again = await SpillCoordinator.open(settings(dir), { ...noCommits, committed }, recordingLogger());
  assert.deepEqual(again.resumePoint('db0', { filenum: 1, offset: 300 }), { filenum: 1, offset: 500 });
  assert.equal(await again.replaying(), true);
  assert.deepEqual((await again.next(100)).map((s) => s.item.logicId), [4, 5]);
  await again.close();

  // A DB whose snapshot was in progress: a full sync follows, its logged items are not replayed.
  const snapshotting = await SpillCoordinator.open(settings(dir), { ...noCommits, committed: new Map([['db0', null]]) }, recordingLogger());
  assert.equal(snapshotting.resumePoint('db0', undefined), undefined);
  assert.equal(await snapshotting.replaying(), false);
  await snapshotting.close();
});

test('a full spill log stops the acks (back-pressure) instead of dropping items', async (t) => {
  const dir = scratch(t);
  const logger = recordingLogger();
  const spill = await SpillCoordinator.open(settings(dir, 300), noCommits, logger);
  const source = fakeSource();
  spill.attach(source);
  await waitFor(() => logger.lines.some((l) => /spill log full/.test(l.msg)), 'the full-log warning');
  const acked = source.acks.reduce((n, a) => n + a.items, 0);
  assert.ok(acked < 5, `only what fits is acked (${acked})`);
  assert.equal((spill.status() as { records: number }).records, acked, 'acked = logged');
  await spill.close();
});
