// snapshot.download.cleanup: a DB's downloaded dump is deleted once its snapshot-end event is committed to Kafka
// (the runtime's commitRecord), never before — a task stopped before that commit resumes from the local copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceRecord } from '../../../../../runtime/api/index.ts';
import { PikaSourceTask } from '../../../../../connector/pika/source/pika-source-task.ts';
import type { PikaEvent } from '../../../../../connector/pika/events/event.ts';
import { scaledSessionTimings } from '../../../../../connector/pika/replication/clock.ts';
import { startPikaMaster, type PikaMaster } from '../../../../pika-master/index.ts';
import { rocksDbMissing } from '../../../../fixtures/rocksdb-gen/build.ts';
import { SCALE } from '../replication/session-helpers.ts';
import { fakeContext } from './task-helpers.ts';
import { applyEvents, canonical, masterModel, writeData, type DbModel } from './event-model.ts';

const skip = rocksDbMissing() ?? false;
const ev = (r: SourceRecord): PikaEvent => r.value as PikaEvent;
const isEnd = (r: SourceRecord): boolean => ev(r).op === 'snapshot-end';

function config(m: PikaMaster, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp), 'pika.repl.port': String(m.ports.repl), 'pika.rsync.port': String(m.ports.rsync),
    'source.id': 'src1', cluster: 'c1', 'snapshot.mode': 'initial', 'snapshot.dir': dir, ...extra,
  };
}

/** Polls until a snapshot-end arrives; commits (commitRecord + commit) only the records `commit` accepts. */
async function pollToEnd(task: PikaSourceTask, commit: (r: SourceRecord) => boolean): Promise<SourceRecord[]> {
  const all: SourceRecord[] = [];
  const deadline = Date.now() + 60_000;
  while (!all.some(isEnd)) {
    assert.ok(Date.now() < deadline, `no snapshot-end after ${all.length} records`);
    const batch = await task.poll();
    all.push(...batch);
    for (const r of batch) if (commit(r)) await task.commitRecord(r);
    await task.commit();
  }
  return all;
}

const dumpDirs = (dir: string): string[] => (existsSync(join(dir, 'db0')) ? readdirSync(join(dir, 'db0')).filter((n) => n.startsWith('dump-')) : []);

test('the dump stays until snapshot-end is committed (a restart before resumes from it), then it is deleted', { skip }, async () => {
  const m = await startPikaMaster({ dbs: 1, timeScale: SCALE });
  const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-cleanup-'));
  let task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  try {
    writeData(m, 0, 'c');
    await task.start(config(m, dir), fakeContext());
    // Everything but snapshot-end reaches Kafka; then the task goes away (the transaction with the end never commits).
    const first = await pollToEnd(task, (r) => !isEnd(r));
    await task.stop();
    assert.equal(dumpDirs(dir).length, 1, 'the dump is kept: its snapshot-end is not committed');
    assert.ok(existsSync(join(dir, 'db0', 'rsync-journal.json')));

    const lastCommitted = first.filter((r) => !isEnd(r)).at(-1)!;
    const ctx = fakeContext([{ partition: lastCommitted.sourcePartition, offset: lastCommitted.sourceOffset }]);
    task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
    await task.start(config(m, dir), ctx);
    const second = await pollToEnd(task, () => true);
    assert.ok(ctx.log.some((l) => /complete on local disk: no download/.test(l.msg)), 'the restart used the local dump');
    assert.deepEqual(second.filter((r) => ev(r).event_type === 'snapshot').length, 0, 'and only the uncommitted rest was emitted');
    await task.stop(); // waits for the deletion started by the commit
    assert.deepEqual(dumpDirs(dir), [], 'the dump is deleted once snapshot-end is committed');
    assert.ok(!existsSync(join(dir, 'db0', 'rsync-journal.json')), 'with its journal');
    assert.ok(ctx.log.some((l) => /downloaded dump deleted/.test(l.msg)));
    const models = new Map<number, DbModel>();
    applyEvents(models, [...first.filter((r) => !isEnd(r)), ...second].map(ev));
    assert.deepEqual(canonical(models.get(0)!), canonical(masterModel(m.state(0), '4.0')));
  } finally {
    await task.stop();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshot.download.cleanup=false keeps the dump after snapshot-end is committed', { skip }, async () => {
  const m = await startPikaMaster({ dbs: 1, timeScale: SCALE });
  const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-keep-'));
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  try {
    writeData(m, 0, 'k');
    await task.start(config(m, dir, { 'snapshot.download.cleanup': 'false' }), fakeContext());
    await pollToEnd(task, () => true);
    await task.stop();
    assert.equal(dumpDirs(dir).length, 1);
  } finally {
    await task.stop();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dump left behind by a crash after its snapshot-end was committed is deleted at the next start', { skip }, async () => {
  const m = await startPikaMaster({ dbs: 1, timeScale: SCALE });
  const dir = mkdtempSync(join(tmpdir(), 'pika-fullsync-leftover-'));
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  const uuid = 'a'.repeat(32);
  const other = `dump-${'b'.repeat(32)}`;
  try {
    mkdirSync(join(dir, 'db0', `dump-${uuid}`, '0'), { recursive: true });
    writeFileSync(join(dir, 'db0', `dump-${uuid}`, '0', 'CURRENT'), 'MANIFEST-000001\n');
    writeFileSync(join(dir, 'db0', 'rsync-journal.json'), JSON.stringify({ version: 1, db: 'db0', snapshot_uuid: uuid, files: {}, complete: true }));
    mkdirSync(join(dir, 'db0', other)); // not the committed snapshot's dump: left alone
    const at = m.binlogPosition(0);
    const ctx = fakeContext([{
      partition: { source_id: 'src1', db: 0 },
      offset: { filenum: at.filenum, offset: at.offset, logic_id: 0, term: 0, replication_id: m.core.replicationId, snapshot_dump_uuid: uuid },
    }]);
    await task.start(config(m, dir), ctx);
    const deadline = Date.now() + 30_000;
    while (![...m.repl.dbs[0]!.nodes.values()].some((n) => n.state === 'BinlogSync')) {
      assert.ok(Date.now() < deadline, 'not streaming');
      await task.poll();
    }
    await task.stop();
    assert.deepEqual(readdirSync(join(dir, 'db0')), [other]);
    assert.ok(ctx.log.some((l) => /snapshot was committed to Kafka before the restart/.test(l.msg)));
  } finally {
    await task.stop();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
