// Pika 3.1–3.4 without pika.replica.ip/port: the master would push its full sync to the replica's reported address,
// port + 1000, so the task fails naming the keys and that port before any DBSync. (The full sync pushed into the
// connector's rsync daemon, then the binlog, per test-master profile: e2e-full-sync-pb.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import type { WorkerProcess } from '../../helpers/worker-process.ts';
import { waitLog } from './pika-harness.ts';
import { cleanUp, PROFILES, profileRun, startProfileMaster } from './profiles.ts';

test('pb-3.4 without pika.replica.ip/port: the task fails naming the keys and the push port', { skip: rocksDbMissing() ?? false, timeout: 120_000 }, async () => {
  const c = PROFILES['pb-3.4'];
  const master = await startProfileMaster(c, { requirepass: 'sekret' });
  const run = await profileRun(c, master, { 'snapshot.mode': 'initial', 'pika.password': 'sekret' });
  const workers: WorkerProcess[] = [];
  try {
    master.exec(0, ['SET', 'k', 'v']);
    const worker = run.start();
    workers.push(worker);
    await waitLog(worker, /PIKA_RSYNCD_IDENTITY|Set pika\.replica\.ip/);
    assert.match(worker.log, /pika\.replica\.port \+ 1000/);
    assert.equal(master.rsyncPush!.results.length, 0, 'no DBSync was sent');
  } finally {
    await cleanUp(run, workers, master);
  }
});
