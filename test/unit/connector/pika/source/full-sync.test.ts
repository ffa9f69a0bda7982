// The source task's full sync against the test master (real RocksDB dumps over rsync2), without Kafka: snapshot
// events, then the binlog from the dump offset; replayed together they equal the master's state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceRecord } from '../../../../../runtime/api/index.ts';
import { PikaSourceTask } from '../../../../../connector/pika/source/pika-source-task.ts';
import type { PikaEvent } from '../../../../../connector/pika/events/event.ts';
import { scaledSessionTimings } from '../../../../../connector/pika/replication/clock.ts';
import { startPikaMaster, type PikaMaster } from '../../../../pika-master/index.ts';
import { rocksDbMissing } from '../../../../fixtures/rocksdb-gen/build.ts';
import { SCALE } from '../replication/session-helpers.ts';
import { fakeContext, type FakeContext } from './task-helpers.ts';
import { applyEvents, canonical, masterModel, writeData, type DbModel } from './event-model.ts';

const skip = rocksDbMissing() ?? false;

function config(m: PikaMaster, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp), 'pika.repl.port': String(m.ports.repl), 'pika.rsync.port': String(m.ports.rsync),
    'source.id': 'src1', cluster: 'c1', 'snapshot.mode': 'initial', 'snapshot.dir': dir, 'snapshot.max.elements.per.event': '100', ...extra,
  };
}

async function pollUntil(task: PikaSourceTask, done: (all: SourceRecord[]) => boolean, all: SourceRecord[] = []): Promise<SourceRecord[]> {
  const deadline = Date.now() + 60_000;
  while (!done(all)) {
    assert.ok(Date.now() < deadline, `timed out after ${all.length} records`);
    const batch = await task.poll();
    all.push(...batch);
    for (const r of batch) await task.commitRecord(r);
    await task.commit();
  }
  return all;
}

const ev = (r: SourceRecord): PikaEvent => r.value as PikaEvent;
const ends = (all: SourceRecord[]): number => all.filter((r) => ev(r).op === 'snapshot-end').length;

test('snapshot.mode=initial: snapshot events of every DB, then the binlog from the dump offset; together = the master', { skip }, async () => {
  const m = await startPikaMaster({ dbs: 2, timeScale: SCALE });
  const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-task-'));
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  const ctx: FakeContext = fakeContext();
  try {
    writeData(m, 0, 'a');
    writeData(m, 1, 'b');
    await task.start(config(m, dir), ctx);
    const all = await pollUntil(task, (a) => ends(a) === 2);
    // Writes after the dumps come through the binlog.
    m.exec(0, ['SET', 'after', '1']);
    m.exec(0, ['DEL', 'a:s:1']);
    m.exec(1, ['HSET', 'b:big', 'f1', 'changed']);
    m.exec(1, ['SREM', 'b:set', 'a']);
    await pollUntil(task, (a) => a.filter((r) => ev(r).event_type === 'binlog').length === 4, all);

    const snapshotTopic = all.filter((r) => ev(r).event_type !== 'binlog');
    assert.ok(snapshotTopic.every((r) => r.topic === 'pika.c1.snapshot'));
    assert.ok(all.filter((r) => ev(r).event_type === 'binlog').every((r) => r.topic === 'pika.c1.binlog'));
    for (const db of [0, 1]) {
      const mine = all.filter((r) => ev(r).db === db);
      const lastSnapshot = mine.map((r) => ev(r).event_type !== 'binlog').lastIndexOf(true);
      const firstBinlog = mine.findIndex((r) => ev(r).event_type === 'binlog');
      assert.ok(firstBinlog > lastSnapshot, `db${db}: binlog events only after snapshot-end`);
      assert.equal(ev(mine[0]!).op, 'snapshot-start');
      const end = mine[lastSnapshot]!;
      assert.equal(ev(end).op, 'snapshot-end');
      assert.deepEqual([end.sourceOffset.filenum, end.sourceOffset.offset], [ev(end).binlog!.filenum, ev(end).binlog!.offset], 'the offset after snapshot-end is the dump offset');
      const big = mine.filter((r) => ev(r).key === (db === 0 ? 'a:big' : 'b:big') && ev(r).event_type === 'snapshot');
      assert.equal(big.length, 5, '450 fields in parts of at most 100');
    }
    const models = new Map<number, DbModel>();
    applyEvents(models, all.map(ev));
    for (const db of [0, 1]) assert.deepEqual(canonical(models.get(db)!), canonical(masterModel(m.state(db), '4.0')), `db${db} equals the master`);
    await task.stop(); // reports the final status
    const status = ctx.status.snapshot as { full_syncs: number; dbs: Record<string, { state: string }> };
    assert.equal(status.full_syncs, 2);
    assert.equal(status.dbs.db0!.state, 'done');
  } finally {
    await task.stop();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [kind, setup] of [
  ['replication-id-changed', (m: PikaMaster) => [{ partition: { source_id: 'src1', db: 0 }, offset: { filenum: 0, offset: 0, logic_id: 0, term: 0, replication_id: 'an-older-id' } }] as const],
  ['purged', (m: PikaMaster) => {
    const at = m.binlogPosition(0);
    m.exec(0, ['SET', 'pad', 'x'.repeat(3000)]); // rotates past the committed file (binlog-file-size 1 KiB)
    m.exec(0, ['SET', 'pad2', 'y']);
    m.faults.purgeBinlogs(0, at.filenum);
    return [{ partition: { source_id: 'src1', db: 0 }, offset: { filenum: at.filenum, offset: at.offset, logic_id: 0, term: 0, replication_id: m.core.replicationId } }] as const;
  }],
] as const) {
  test(`snapshot.on.gap=resync: a ${kind} gap is logged and counted, then a full sync and the binlog after it`, { skip }, async () => {
    const m = await startPikaMaster({ dbs: 1, timeScale: SCALE, binlogFileSize: 1024 });
    const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-gap-'));
    const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
    try {
      writeData(m, 0, 'g');
      const committed = setup(m);
      const ctx = fakeContext(committed.map((c) => ({ partition: { ...c.partition }, offset: { ...c.offset } })), `resync-${kind}`);
      await task.start(config(m, dir, { 'snapshot.on.gap': 'resync' }), ctx);
      const all = await pollUntil(task, (a) => ends(a) === 1);
      m.exec(0, ['SET', 'after-resync', '1']);
      await pollUntil(task, (a) => a.some((r) => ev(r).event_type === 'binlog'), all);
      const models = new Map<number, DbModel>();
      applyEvents(models, all.map(ev));
      assert.deepEqual(canonical(models.get(0)!), canonical(masterModel(m.state(0), '4.0')));
      assert.equal(ctx.status.gaps, 1);
      assert.equal((ctx.status.last_gap as { kind: string }).kind, kind);
      assert.equal((ctx.status.snapshot as { resyncs: number }).resyncs, 1);
      assert.ok(ctx.log.some((l) => l.level === 'warn' && /full sync of the DB again/.test(l.msg)));
    } finally {
      await task.stop();
      await m.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('during a long dump the node stays on the master (keepalives answered, pings sent): no drop, no reconnect', { skip }, async () => {
  const m = await startPikaMaster({ dbs: 1, timeScale: SCALE });
  const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-hold-'));
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  const ctx = fakeContext();
  try {
    writeData(m, 0, 'h');
    const release = m.fullSync.hold(); // the bgsave does not finish: meta answers kErr meanwhile
    await task.start(config(m, dir), ctx);
    const all: SourceRecord[] = [];
    const dropAfterMs = 20_000 / SCALE;
    const until = Date.now() + 3 * dropAfterMs;
    while (Date.now() < until) all.push(...await task.poll());
    const nodes = [...m.repl.dbs[0]!.nodes.values()];
    assert.equal(nodes.length, 1, 'the master kept the slave node for three drop timeouts');
    assert.equal(nodes[0]!.state, 'DbSync', 'still in DbSync (binlog purge protection)');
    release();
    await pollUntil(task, (a) => ends(a) === 1, all);
    const stats = (ctx.status.replication as { connects: number; keepalivesReceived: number; pingsSent: number });
    assert.equal(stats.connects, 1, 'one connection all along');
    assert.ok(stats.keepalivesReceived > 0 && stats.pingsSent > 0);
  } finally {
    await task.stop();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a committed snapshot position of a dump that is gone: the snapshot restarts from the beginning and says so', { skip }, async () => {
  const m = await startPikaMaster({ dbs: 1, timeScale: SCALE });
  const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-gone-'));
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  const stale = {
    phase: 'snapshot', dump_uuid: 'f'.repeat(32), now_ms: Date.now(), stage: 'keys', instance: '0', data_type: 'string',
    key_b64: Buffer.from('h:s:3').toString('base64'), part: 1, elements: 0, key_done: true, prev_key_b64: null, seq: 7, keys: 5, elements_total: 0, skipped: 0,
  };
  const ctx = fakeContext([{ partition: { source_id: 'src1', db: 0 }, offset: stale }]);
  try {
    writeData(m, 0, 'h');
    await task.start(config(m, dir), ctx);
    const all = await pollUntil(task, (a) => ends(a) === 1);
    const start = ev(all[0]!);
    assert.equal(start.op, 'snapshot-start');
    assert.match(Buffer.from(start.args_b64[0]!, 'base64').toString(), /"restarted_from":"f{32}"/);
    assert.ok(ctx.log.some((l) => l.level === 'warn' && /restarts from its beginning/.test(l.msg)));
    const models = new Map<number, DbModel>();
    applyEvents(models, all.map(ev));
    assert.deepEqual(canonical(models.get(0)!), canonical(masterModel(m.state(0), '4.0')), 'the whole dump, not just the part after the stale position');
  } finally {
    await task.stop();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [mode, policy, committedKind, fullSync] of [
  ['always', 'fail', 'valid', true],
  ['initial', 'fail', 'valid', false],
  ['when_needed', 'fail', 'valid', false],
  ['when_needed', 'fail', 'gap', true],
  ['never', 'resync', 'none', false],
] as const) {
  test(`snapshot.mode=${mode} with ${committedKind === 'none' ? 'no' : `a ${committedKind}`} committed offset (snapshot.on.gap=${policy}): ${fullSync ? 'full sync' : 'no full sync'}`, { skip }, async () => {
    const m = await startPikaMaster({ dbs: 1, timeScale: SCALE });
    const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-mode-'));
    const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
    try {
      writeData(m, 0, 'm');
      const at = m.binlogPosition(0);
      const committed = committedKind === 'none' ? [] : [{
        partition: { source_id: 'src1', db: 0 },
        offset: { filenum: at.filenum, offset: at.offset, logic_id: 0, term: 0, replication_id: committedKind === 'gap' ? 'another-master' : m.core.replicationId },
      }];
      const ctx = fakeContext(committed, `mode-${mode}-${committedKind}`);
      await task.start(config(m, dir, { 'snapshot.mode': mode, 'snapshot.on.gap': policy }), ctx);
      const streaming = (): boolean => [...m.repl.dbs[0]!.nodes.values()].some((n) => n.state === 'BinlogSync');
      const all = await pollUntil(task, streaming);
      m.exec(0, ['SET', 'later', '1']);
      await pollUntil(task, (a) => a.some((r) => ev(r).event_type === 'binlog'), all);
      assert.equal(all.some((r) => ev(r).op === 'snapshot-start'), fullSync);
      assert.deepEqual(all.filter((r) => ev(r).event_type === 'binlog').map((r) => ev(r).key), ['later']);
    } finally {
      await task.stop();
      await m.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the master comes back with a new replication id while streaming, snapshot.on.gap=resync: full sync on the reconnect', { skip }, async () => {
  const m = await startPikaMaster({ dbs: 1, timeScale: SCALE });
  const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-newid-'));
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  const ctx = fakeContext([], 'new-replication-id');
  try {
    await task.start(config(m, dir, { 'snapshot.mode': 'never', 'snapshot.on.gap': 'resync' }), ctx);
    const streaming = (): boolean => [...m.repl.dbs[0]!.nodes.values()].some((n) => n.state === 'BinlogSync');
    const all = await pollUntil(task, streaming);
    writeData(m, 0, 'r');
    await m.restart({ newReplicationId: true });
    await pollUntil(task, (a) => ends(a) === 1, all);
    assert.equal((ctx.status.last_gap as { kind: string }).kind, 'replication-id-changed');
    const snapshot = all.filter((r) => ev(r).event_type !== 'binlog');
    assert.ok(snapshot.length > 0);
    const models = new Map<number, DbModel>();
    applyEvents(models, snapshot.map(ev));
    assert.deepEqual(canonical(models.get(0)!), canonical(masterModel(m.state(0), '4.0')), 'the new master\'s state from its dump');
  } finally {
    await task.stop();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshot.oversize.policy=dlq: a string over snapshot.max.bytes.per.event is handed to the runtime\'s dead-letter topic with its reason', { skip }, async () => {
  const m = await startPikaMaster({ dbs: 1, timeScale: SCALE });
  const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-dlq-'));
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  try {
    m.exec(0, ['SET', 'small', 'v']);
    m.exec(0, ['SET', 'huge', 'x'.repeat(5000)]);
    await task.start(config(m, dir, { 'snapshot.max.bytes.per.event': '1000', 'snapshot.oversize.policy': 'dlq', 'errors.deadletterqueue.topic.name': 'dlq' }), fakeContext());
    const all = await pollUntil(task, (a) => ends(a) === 1);
    const huge = all.filter((r) => ev(r).key === 'huge');
    assert.equal(huge.length, 1);
    assert.match(huge[0]!.deadLetterReason ?? '', /over snapshot\.max\.bytes\.per\.event=1000/);
    assert.equal(all.find((r) => ev(r).key === 'small')!.deadLetterReason, undefined);
  } finally {
    await task.stop();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
