// Legacy Pika 3.0 full sync with snapshot.mode=always (TRYSYNC force) and a SIGKILL inside the snapshot: the restart
// resumes from the pushed dump still on disk instead of asking for another full sync. (The plain full sync then
// binlog per test-master profile: e2e-full-sync-*.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import type { WorkerProcess } from '../../helpers/worker-process.ts';
import { checkReplay, snapshotSeq, waitSnapshotsDone } from './full-sync-harness.ts';
import { legacyRun, waitLegacyCaughtUp } from './legacy-harness.ts';
import { killLeftoverDaemon, sleep } from './pika-harness.ts';

const skip = rocksDbMissing() ?? false;

test('legacy-3.0, snapshot.mode=always: TRYSYNC force → pushed dump; SIGKILL inside the snapshot → the restart resumes from the dump on disk, no new full sync', { skip, timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ profile: 'legacy-3.0', timeScale: 4, serverId: 3 });
  const run = await legacyRun(master, { 'snapshot.mode': 'always', 'poll.max.records': 20 });
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < 2000; i++) master.exec(0, ['SET', `k:${i}`, `v${i}`]);
    const first = run.start();
    workers.push(first);
    for (let s = snapshotSeq(run); s === undefined; s = snapshotSeq(run)) {
      assert.equal(first.child.exitCode, null, `worker died; log tail:\n${first.log.slice(-3000)}`);
      await sleep(20);
    }
    await first.kill('SIGKILL');
    assert.notEqual(snapshotSeq(run), 'done', 'killed after the snapshot finished: make the dump bigger');
    killLeftoverDaemon(run);
    const second = run.start();
    workers.push(second);
    await waitSnapshotsDone(run, [0], second);
    // Two items: the first starts at the dump offset, which snapshot-end's resume point already names.
    master.exec(0, ['SET', 'after', '1']);
    master.exec(0, ['SET', 'after', '2']);
    await waitLegacyCaughtUp(run, second);
    assert.equal(await second.kill('SIGTERM'), 0, `graceful stop; log tail:\n${second.log.slice(-3000)}`);

    const trysyncs = master.legacy!.trysyncLog.map((t) => t.request.slice(3).join(':'));
    assert.deepEqual(trysyncs.filter((t) => t === '4294967295:0').length, 1, 'one forced TRYSYNC: the restart did not ask for another full sync');
    assert.match(second.log, /resuming the snapshot after its last committed event/);
    const snapshot = await checkReplay(master, run, [0], '3.5');
    assert.equal(snapshot.filter((e) => e.op === 'snapshot-start').length, 1, 'the snapshot never started over');
    assert.equal(snapshot.filter((e) => e.key?.startsWith('k:')).length, 2000, 'every key once');
  } finally {
    for (const w of workers) if (w.child.exitCode === null) await w.kill('SIGKILL');
    killLeftoverDaemon(run);
    await master.stop();
  }
});
