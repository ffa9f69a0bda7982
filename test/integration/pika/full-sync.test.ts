// Full sync end to end on real Kafka: data written to the test master before the connector exists, a worker
// started without offsets (snapshot.mode=initial) → snapshot events (snapshot topic) then binlog events (binlog
// topic); a consumer applying the snapshot and then the binlog gets exactly the master's state. 4.0 and 3.5
// profiles, two DBs, every data type, a hash split into parts. Also a purged binlog with snapshot.on.gap=resync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { readAllCommitted } from '../../helpers/kafka.ts';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { applyEvents, canonical, masterModel, writeData, type DbModel } from '../../unit/connector/pika/source/event-model.ts';
import { sleep, waitCaughtUp } from './pika-harness.ts';
import type { WorkerProcess } from '../../helpers/worker-process.ts';
import { checkReplay, events, fullSyncRun, waitSnapshotsDone } from './full-sync-harness.ts';

const skip = rocksDbMissing() ?? false;
for (const profile of ['4.0', '3.5'] as const) {
  test(`${profile}: no offset, snapshot.mode=initial → snapshot events then binlog events; replayed = the master (2 DBs)`, { skip, timeout: 240_000 }, async () => {
    const master = await startPikaMaster({ dbs: 2, profile });
    const run = fullSyncRun(master);
    let worker: WorkerProcess | undefined;
    try {
      writeData(master, 0, 'a');
      writeData(master, 1, 'b');
      worker = run.start();
      await waitSnapshotsDone(run, [0, 1], worker);
      master.exec(0, ['SET', 'after', '1']);
      master.exec(0, ['DEL', 'a:s:1']);
      master.exec(0, ['LPUSH', 'a:l', 'new-head']);
      master.exec(1, ['HSET', 'b:big', 'f1', 'changed']);
      master.exec(1, ['ZADD', 'b:z', '2.5', 'added']);
      await waitCaughtUp(master, run, [0, 1], worker);
      assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
      const snapshot = await checkReplay(master, run, [0, 1], profile);
      assert.equal(snapshot.filter((e) => e.key === 'a:big').length, 5, 'the 450-field hash in 5 parts');
      if (profile === '3.5') {
        assert.match(worker.log, /do not carry streams/, 'the 3.5 stream loss is in the log');
        const start = snapshot.find((e) => e.op === 'snapshot-start')!;
        assert.ok(start.warnings.some((w) => /streams/.test(w)), 'and in the snapshot-start event');
      }
    } finally {
      if (worker && worker.child.exitCode === null) await worker.kill('SIGKILL');
      await master.stop();
    }
  });
}

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
