// A full sync pushed by the master that never arrives or stops half-way, on real Kafka. The test master's fault hook
// (fullsync/rsync-push.ts, failNextPushes) makes a 3.1–3.4 master accept DBSync and never push, and a 3.0 master
// push its first file only. After snapshot.push.timeout.ms without progress the task fails with
// PIKA_RSYNCD_PUSH_TIMEOUT naming the master, the daemon's port and module; the runtime restarts it (retriable), it
// asks the master again and the second push completes: snapshot + binlog replayed = the master, every event once.
// The timeout is counted in the task status (rsync_push.timeouts) and in /metrics; on the legacy path the
// snapshot-progress gauges are filled too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster, type PikaMaster } from '../../pika-master/index.ts';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import type { WorkerProcess } from '../../helpers/worker-process.ts';
import { parsePrometheusText, sampleValue } from '../../unit/runtime/metrics/prom-text.ts';
import { checkReplay, waitSnapshotsDone } from './full-sync-harness.ts';
import { legacyRun, waitLegacyCaughtUp } from './legacy-harness.ts';
import { freeReplicaPort, killLeftoverDaemon, pikaRun, restUrl, sleep, taskStatus, waitCaughtUp, type PikaRun } from './pika-harness.ts';

const skip = rocksDbMissing() ?? false;
const TIMEOUT_MS = 2000;

function writeKeys(exec: (argv: string[]) => Buffer, n: number): void {
  for (let i = 0; i < n; i++) assert.ok(!exec(['SET', `k:${i}`, `v${i}:${'x'.repeat(100)}`]).toString().startsWith('-'));
  exec(['HMSET', 'h', 'f1', 'a', 'f2', 'b']);
  exec(['RPUSH', 'l', 'x', 'y']);
}

/** The timeout is in the status of the restarted task and in /metrics, once. */
async function checkCounted(run: PikaRun, worker: WorkerProcess, statusOf: (s: Record<string, unknown>) => unknown): Promise<void> {
  const push = statusOf(await taskStatus(run, worker)) as { timeouts: number; last_timeout: { db: string; message: string } };
  assert.equal(push.timeouts, 1, 'one push timeout in the task status');
  assert.match(push.last_timeout.message, /snapshot\.push\.timeout\.ms/);
  const metrics = parsePrometheusText(await (await fetch(`${await restUrl(worker)}/metrics`)).text());
  assert.equal(sampleValue(metrics, 'pika_source_push_timeouts_total', { db: 'db0' }), 1, 'pika_source_push_timeouts_total{db="db0"}');
}

/** Stops the worker gracefully, then: snapshot + binlog replayed = the master, from one snapshot. */
async function stopAndCheckOneSnapshot(master: PikaMaster, run: PikaRun, worker: WorkerProcess): Promise<void> {
  assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
  const snapshot = await checkReplay(master, run, [0], '3.5');
  assert.equal(snapshot.filter((e) => e.op === 'snapshot-start').length, 1, 'one snapshot');
}

/** Whatever the test's outcome: the worker, a daemon it left and the master are gone. */
async function cleanUp(master: PikaMaster, run: PikaRun, worker: WorkerProcess | undefined): Promise<void> {
  if (worker && worker.child.exitCode === null) await worker.kill('SIGKILL');
  killLeftoverDaemon(run);
  await master.stop();
}

test('pb-3.4: DBSync accepted but the push never comes → PIKA_RSYNCD_PUSH_TIMEOUT after snapshot.push.timeout.ms, counted; the restart asks again and the full sync completes exactly once', { skip, timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ profile: 'pb-3.4', dbs: 1 });
  const replicaPort = await freeReplicaPort([1000]);
  const run = pikaRun(master, {
    'snapshot.mode': 'initial', 'pika.replica.ip': '127.0.0.1', 'pika.replica.port': replicaPort, 'pika.replica.rsync.bind': '127.0.0.1',
    'snapshot.push.timeout.ms': TIMEOUT_MS,
  });
  let worker: WorkerProcess | undefined;
  try {
    writeKeys((argv) => master.exec(0, argv), 200);
    master.rsyncPush!.failNextPushes('suppress');
    worker = run.start();
    await waitSnapshotsDone(run, [0], worker);
    const failure = worker.log.split('\n').find((l) => l.includes('PIKA_RSYNCD_PUSH_TIMEOUT') || l.includes('made no progress for')) ?? '';
    assert.match(failure, new RegExp(`the master 127\\.0\\.0\\.1:${master.ports.resp} to the rsync daemon on 127\\.0\\.0\\.1:${replicaPort + 1000} \\(pika\\.replica\\.port \\+ 1000\\), module 'document' made no progress for ${TIMEOUT_MS} ms`));
    assert.match(failure, /nothing was pushed/);
    assert.match(worker.log, /task failed; restarting from committed offsets/, 'the runtime restarted the task (retriable)');
    assert.deepEqual(master.rsyncPush!.results.map((r) => r.ok), [false, true], 'the first full sync was suppressed, the second pushed');
    await checkCounted(run, worker, (s) => (s.snapshot as Record<string, unknown>).rsync_push);
    master.exec(0, ['SET', 'after', '1']);
    await waitCaughtUp(master, run, [0], worker);
    await stopAndCheckOneSnapshot(master, run, worker);
  } finally {
    await cleanUp(master, run, worker);
  }
});

test('legacy-3.0: the push stops after its first file → PIKA_RSYNCD_PUSH_TIMEOUT ("stopped half-way"), counted; the restart TRYSYNCs again, gets "wait" and a whole push', { skip, timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ profile: 'legacy-3.0', timeScale: 4, serverId: 3, binlogFileSize: 32 * 1024 });
  const run = await legacyRun(master, { 'snapshot.push.timeout.ms': TIMEOUT_MS });
  let worker: WorkerProcess | undefined;
  try {
    writeKeys((argv) => master.exec(0, argv), 400);
    assert.deepEqual(master.faults.purgeBinlogs(0, 0), [0], 'write2file0 purged: TRYSYNC 0:0 is answered wait');
    master.rsyncPush!.failNextPushes('cut');
    worker = run.start();
    await waitSnapshotsDone(run, [0], worker);
    const failure = worker.log.split('\n').find((l) => l.includes('made no progress for')) ?? '';
    assert.match(failure, new RegExp(`the master 127\\.0\\.0\\.1:${master.ports.resp} to the rsync daemon on 127\\.0\\.0\\.1:${run.replicaPort + 3000} \\(pika\\.replica\\.port \\+ 3000\\), module 'document_127\\.0\\.0\\.1:${master.ports.resp}'`));
    assert.match(failure, /stopped half-way \(\d+ files, \d+ bytes, 1 rsync transfers so far\)/);
    const pushes = master.rsyncPush!.results;
    assert.deepEqual(pushes.map((r) => r.ok), [false, true], 'the first push was cut, the second complete');
    assert.match(pushes[0]!.error ?? '', /cut after the first file/);
    assert.deepEqual(master.legacy!.trysyncLog.filter((t) => t.reply.includes('wait')).length, 2, 'wait twice: a full sync each time');
    await checkCounted(run, worker, (s) => (s.replication as Record<string, unknown>).rsync_push);
    // The gauges are sampled about once a second while the task polls.
    for (let tries = 0; ; tries++) {
      const metrics = parsePrometheusText(await (await fetch(`${await restUrl(worker)}/metrics`)).text());
      const emitted = sampleValue(metrics, 'pika_source_snapshot_events_emitted', { db: 'db0' }) ?? 0;
      if (emitted > 400) break;
      assert.ok(tries < 100, `the legacy path fills the snapshot-progress gauges (events emitted: ${emitted})`);
      await sleep(100);
    }
    master.exec(0, ['SET', 'after', '1']);
    master.exec(0, ['SET', 'after', '2']);
    await waitLegacyCaughtUp(run, worker);
    await stopAndCheckOneSnapshot(master, run, worker);
  } finally {
    await cleanUp(master, run, worker);
  }
});
