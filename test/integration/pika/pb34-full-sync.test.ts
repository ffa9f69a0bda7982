// Pika 3.1–3.4 without pika.replica.ip/port: the master would push its full sync to the replica's reported address,
// port + 1000, so the task fails naming the keys and that port before any DBSync. (The full sync pushed into the
// connector's rsync daemon, then the binlog, per test-master profile: e2e-full-sync-pb.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPikaMaster, type PikaMaster } from '../../pika-master/index.ts';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { killLeftoverDaemon, pikaRun, sleep, type PikaRun } from './pika-harness.ts';
import type { WorkerProcess } from '../../helpers/worker-process.ts';

const skip = rocksDbMissing() ?? false;

function pb34Run(master: PikaMaster, props: Record<string, string | number>): PikaRun {
  const run = pikaRun(master, { 'snapshot.mode': 'initial', 'snapshot.max.elements.per.event': 100, 'pika.password': 'sekret', ...props });
  appendFileSync(run.connectorFile, `snapshot.dir=${join(run.dir, 'dumps')}\n`);
  return run;
}

test('pb-3.4 without pika.replica.ip/port: the task fails naming the keys and the push port', { skip, timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ profile: 'pb-3.4', requirepass: 'sekret' });
  const run = pb34Run(master, {});
  let worker: WorkerProcess | undefined;
  try {
    master.exec(0, ['SET', 'k', 'v']);
    worker = run.start();
    const deadline = Date.now() + 60_000;
    while (!/PIKA_RSYNCD_IDENTITY|Set pika\.replica\.ip/.test(worker.log)) {
      assert.ok(Date.now() < deadline, `no identity error; log tail:\n${worker.log.slice(-3000)}`);
      await sleep(100);
    }
    assert.match(worker.log, /pika\.replica\.port \+ 1000/);
    assert.equal(master.rsyncPush!.results.length, 0, 'no DBSync was sent');
  } finally {
    if (worker && worker.child.exitCode === null) await worker.kill('SIGKILL');
    killLeftoverDaemon(run);
    await master.stop();
  }
});
