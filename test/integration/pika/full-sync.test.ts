// Full sync end to end on real Kafka, a purged binlog with snapshot.on.gap=resync: the restart makes a full sync
// again, then continues the binlog; the newer snapshot + the later binlog replayed = the master. (Full sync then
// binlog per test-master profile: e2e-full-sync-*.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { readAllCommitted } from '../../helpers/kafka.ts';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { applyEvents, canonical, masterModel, writeData, type DbModel } from '../../unit/connector/pika/source/event-model.ts';
import { sleep, waitCaughtUp } from './pika-harness.ts';
import { events, fullSyncRun, waitSnapshotsDone } from './full-sync-harness.ts';

const skip = rocksDbMissing() ?? false;

test('binlog purged while the connector was down, snapshot.on.gap=resync: full sync again, then the binlog; nothing lost', { skip, timeout: 240_000 }, async () => {
  const master = await startPikaMaster({ binlogFileSize: 1024, expireLogsNums: 10 });
  const run = fullSyncRun(master, { 'snapshot.on.gap': 'resync' });
  let worker = run.start();
  try {
    writeData(master, 0, 'a');
    await waitSnapshotsDone(run, [0], worker);
    master.exec(0, ['SET', 'k', 'v']);
    await waitCaughtUp(master, run, [0], worker);
    assert.equal(await worker.kill('SIGTERM'), 0);
    for (let i = 0; i < 400; i++) master.exec(0, ['SET', `key${i}`, 'x'.repeat(60)]); // > 10 files: the oldest are purged
    worker = run.start();
    const deadline = Date.now() + 90_000;
    while (!/full sync of the DB again/.test(worker.log)) {
      assert.ok(Date.now() < deadline && worker.child.exitCode === null, `no resync; log tail:\n${worker.log.slice(-3000)}`);
      await sleep(100);
    }
    master.exec(0, ['SET', 'after-resync', '1']);
    await waitCaughtUp(master, run, [0], worker);
    assert.equal(await worker.kill('SIGTERM'), 0);
    assert.match(worker.log, /kSyncPointBePurged/);
    // Two snapshots in the topic: the consumer applies the newer one over the older (snapshot per key, then the binlog).
    const all = events(await readAllCommitted(`pika.${run.cluster}.snapshot`));
    const uuids = [...new Set(all.map((e) => e.snapshot.dump_uuid))];
    assert.equal(uuids.length, 2, 'the initial snapshot and the resync snapshot');
    const second = all.filter((e) => e.snapshot.dump_uuid === uuids[1]);
    const binlog = events(await readAllCommitted(`pika.${run.cluster}.binlog`))
      .filter((e) => e.binlog!.filenum * 1e12 + e.binlog!.offset >= second[0]!.binlog!.filenum * 1e12 + second[0]!.binlog!.offset)
      .sort((a, b) => a.binlog!.filenum - b.binlog!.filenum || a.binlog!.offset - b.binlog!.offset);
    const models = new Map<number, DbModel>();
    applyEvents(models, second);
    applyEvents(models, binlog);
    assert.deepEqual(canonical(models.get(0)!), canonical(masterModel(master.state(0), '4.0')), 'resync snapshot + later binlog = the master');
  } finally {
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});
