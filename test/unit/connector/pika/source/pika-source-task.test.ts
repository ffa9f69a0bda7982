import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SourceRecord } from '../../../../../runtime/api/index.ts';
import { PikaSourceTask } from '../../../../../connector/pika/source/pika-source-task.ts';
import type { PikaEvent } from '../../../../../connector/pika/events/event.ts';
import { scaledSessionTimings, systemClock } from '../../../../../connector/pika/replication/clock.ts';
import { startPikaMaster, type PikaMaster } from '../../../../pika-master/index.ts';
import { SCALE, sleep, waitFor } from '../replication/session-helpers.ts';
import { fakeContext, pollUntil, type FakeContext } from './task-helpers.ts';

function config(m: PikaMaster, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp), 'pika.repl.port': String(m.ports.repl),
    'source.id': 'src1', cluster: 'c1', 'snapshot.mode': 'never', ...extra,
  };
}

async function commit(task: PikaSourceTask, records: SourceRecord[]): Promise<void> {
  for (const r of records) await task.commitRecord(r);
  await task.commit();
}

async function withTask(m: PikaMaster, cfg: Record<string, string>, ctx: FakeContext, body: (t: PikaSourceTask) => Promise<void>): Promise<void> {
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  await task.start(cfg, ctx);
  try {
    await body(task);
  } finally {
    await task.stop();
  }
}

test('binlog items become records: topic, Kafka key, partition key, source partition/offset; one item split into several records carries an index', async () => {
  const m = await startPikaMaster({ dbs: 2, timeScale: SCALE });
  try {
    const ctx = fakeContext();
    await withTask(m, config(m), ctx, async (task) => {
      await waitFor(() => (ctx.status.replication as { streaming?: boolean } | undefined)?.streaming === true || m.repl.dbs[1]!.nodes.size > 0, 'handshake');
      await sleep(100);
      m.exec(0, ['SET', 'k', 'v']);
      m.core.appendBinlog(1, [Buffer.from('del'), Buffer.from('a'), Buffer.from('b')]); // one item, two keys (as multi-key items of other producers)
      const records = await pollUntil(task, 3);
      const set = records.find((r) => (r.value as PikaEvent).op === 'set')!;
      assert.equal(set.topic, 'pika.c1.binlog');
      assert.deepEqual(set.sourcePartition, { source_id: 'src1', db: 0 });
      const pos = m.binlogPosition(0);
      assert.deepEqual(set.sourceOffset, { filenum: pos.filenum, offset: pos.offset, logic_id: Number(pos.logicId), term: 0, replication_id: m.core.replicationId });
      assert.equal(Buffer.from(set.key as Buffer).toString(), '0:string:k');
      assert.equal(Buffer.from(set.partitionKey as Buffer).toString(), '0:k');
      const dels = records.filter((r) => (r.value as PikaEvent).op === 'del');
      assert.deepEqual(dels.map((r) => [r.sourcePartition.db, r.sourceOffset.index, (r.value as PikaEvent).key]), [[1, 0, 'a'], [1, 1, 'b']]);
      assert.deepEqual(dels.map((r) => Buffer.from(r.partitionKey as Buffer).toString()), ['1:a', '1:b']);
    });
  } finally {
    await m.stop();
  }
});

test('the master hears an ack only after the records of an item are committed', async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  try {
    const ctx = fakeContext();
    await withTask(m, config(m, { 'stream.mode': 'single' }), ctx, async (task) => {
      await waitFor(() => m.repl.dbs[0]!.nodes.size > 0, 'handshake');
      await sleep(100);
      m.core.appendBinlog(0, [Buffer.from('del'), Buffer.from('x'), Buffer.from('y')]); // one item → two records
      const records = await pollUntil(task, 2);
      assert.equal(records[0]!.topic, 'pika.c1.stream');
      const node = () => [...m.repl.dbs[0]!.nodes.values()][0]!;
      await sleep(300);
      assert.equal(node().window.length, 1, 'unacknowledged while nothing is committed');
      await task.commitRecord(records[0]!);
      await task.commit();
      await sleep(300);
      assert.equal(node().window.length, 1, 'half of the item committed: still unacknowledged');
      await commit(task, [records[1]!]);
      await waitFor(() => node().window.length === 0, 'the ack of the committed item');
      assert.deepEqual(node().ackedOffset, { filenum: m.binlogPosition(0).filenum, offset: m.binlogPosition(0).offset });
    });
  } finally {
    await m.stop();
  }
});

test('while records await their commit, a poll waits only briefly for more items (their acks go out between polls); once committed, it waits the full idle time', async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  try {
    const waits: number[] = [];
    const clock = { ...systemClock, setTimeout: (fn: () => void, ms: number) => { waits.push(ms); return systemClock.setTimeout(fn, ms); } };
    const ctx = fakeContext();
    const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE), clock });
    await task.start(config(m), ctx);
    try {
      await waitFor(() => m.repl.dbs[0]!.nodes.size > 0, 'handshake');
      await sleep(100);
      m.exec(0, ['SET', 'k', 'v']);
      const records = await pollUntil(task, 1);
      waits.length = 0;
      assert.deepEqual(await task.poll(), []);
      assert.ok(waits.includes(5) && !waits.includes(500), `a short wait while 1 record awaits its commit (timers: ${waits.join(',')})`);
      await commit(task, records);
      waits.length = 0;
      assert.deepEqual(await task.poll(), []);
      assert.ok(waits.includes(500), `the idle wait once nothing awaits a commit (timers: ${waits.join(',')})`);
    } finally {
      await task.stop();
    }
  } finally {
    await m.stop();
  }
});

test('resume from a committed offset: only later items are delivered', async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  try {
    m.exec(0, ['SET', 'a', '1']);
    const pos = m.binlogPosition(0);
    m.exec(0, ['SET', 'b', '2']);
    const ctx = fakeContext([{ partition: { source_id: 'src1', db: 0 }, offset: { filenum: pos.filenum, offset: pos.offset, logic_id: 1, term: 0, replication_id: m.core.replicationId } }]);
    await withTask(m, config(m, { 'snapshot.mode': 'initial' }), ctx, async (task) => {
      const records = await pollUntil(task, 1);
      await sleep(200);
      records.push(...await task.poll());
      assert.deepEqual(records.map((r) => (r.value as PikaEvent).key), ['b']);
      assert.ok(ctx.log.some((l) => /resuming from the committed offset/.test(l.msg)));
    });
  } finally {
    await m.stop();
  }
});

test('a gap (committed offset of another replication id) is logged, counted in status and fails the task with snapshot.on.gap=fail', async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  try {
    // (resync: full-sync.test.ts)
    for (const [policy, pattern] of [['fail', /snapshot\.on\.gap=fail/]] as const) {
      const ctx = fakeContext([{ partition: { source_id: 'src1', db: 0 }, offset: { filenum: 0, offset: 0, logic_id: 0, term: 0, replication_id: 'an-older-id' } }], `gap-${policy}`);
      await withTask(m, config(m, { 'snapshot.on.gap': policy }), ctx, async (task) => {
        // Not retriable: the runtime leaves the task FAILED (a restart would meet the same gap).
        await assert.rejects(pollUntil(task, 1), (e: Error) => pattern.test(e.message) && /replication id/.test(e.message) && (e as { retriable?: boolean }).retriable === false);
        assert.equal(ctx.status.gaps, 1);
        assert.equal((ctx.status.last_gap as { kind: string }).kind, 'replication-id-changed');
        assert.ok(ctx.log.some((l) => l.level === 'error' && /binlog gap/.test(l.msg)));
      });
      // The runtime restarts the failed task: the same gap again is one gap, reported twice.
      await withTask(m, config(m, { 'snapshot.on.gap': policy }), ctx, async (task) => {
        await assert.rejects(pollUntil(task, 1), pattern);
        assert.equal(ctx.status.gaps, 1);
        assert.equal(ctx.status.gap_reports, 2);
      });
    }
  } finally {
    await m.stop();
  }
});

test('a committed offset in another format is a clear error', async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  try {
    const ctx = fakeContext([{ partition: { source_id: 'src1', db: 0 }, offset: { seq: 5 } }]);
    await withTask(m, config(m), ctx, async (task) => {
      await assert.rejects(pollUntil(task, 1), /is not a Pika binlog offset: filenum/);
    });
  } finally {
    await m.stop();
  }
});

test('filter.* rules mark dropped events (filteredBy) so they write nothing yet still advance offsets and acks', async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  try {
    const ctx = fakeContext();
    await withTask(m, config(m, { 'filter.keys.exclude': 'session:*', 'filter.commands.exclude': 'flushdb' }), ctx, async (task) => {
      await waitFor(() => m.repl.dbs[0]!.nodes.size > 0, 'handshake');
      await sleep(100);
      m.exec(0, ['SET', 'user:1', 'a']);
      m.exec(0, ['SET', 'session:9', 'b']);
      m.exec(0, ['FLUSHDB']);
      const records = await pollUntil(task, 3);
      assert.deepEqual(records.map((r) => [(r.value as PikaEvent).op, r.filteredBy ?? null]), [
        ['set', null], ['set', 'filter.keys.exclude'], ['flushdb', 'filter.commands.exclude'],
      ]);
      await commit(task, records);
      const node = () => [...m.repl.dbs[0]!.nodes.values()][0]!;
      await waitFor(() => node().window.length === 0, 'the ack covers the filtered items too');
      assert.deepEqual(node().ackedOffset, { filenum: m.binlogPosition(0).filenum, offset: m.binlogPosition(0).offset });
    });
  } finally {
    await m.stop();
  }
});

test('invalid filter rules fail the task start with the key and the reason', async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  try {
    const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
    await assert.rejects(task.start(config(m, { 'filter.keys.include': 're:([unclosed' }), fakeContext()), /filter\.keys\.include/);
  } finally {
    await m.stop();
  }
});

test('a frame off the protocol from a master the task already replicates from fails the poll with a retriable error (a restart reconnects)', async () => {
  const m = await startPikaMaster({ dbs: 1, timeScale: SCALE });
  try {
    const ctx = fakeContext();
    await withTask(m, config(m), ctx, async (task) => {
      await waitFor(() => m.repl.dbs[0]!.nodes.size > 0 && [...m.repl.dbs[0]!.nodes.values()].some((n) => n.state === 'BinlogSync'), 'streaming');
      m.exec(0, ['SET', 'before', 'v']);
      await commit(task, await pollUntil(task, 1));
      m.faults.corruptNextFrame();
      m.exec(0, ['SET', 'after', 'v']);
      await assert.rejects(pollUntil(task, 1), (e: Error & { retriable?: boolean; code?: string }) => e.retriable === true && e.code === 'PIKA_PROTOCOL' && /malformed/.test(e.message));
    });
  } finally {
    await m.stop();
  }
});
