// Legacy Pika 3.0 full sync end to end on real Kafka: data written before the connector starts, the master's first
// binlog file purged, so TRYSYNC 0:0 is answered `wait`; the 'legacy-3.0' test master bgsaves and pushes the dump
// with the real `rsync` client to the connector's daemon (pika.replica.port + 3000, module
// `document_<master ip>:<master port>`, `info` last, as in pika-vectors-3.0.16-legacy); the connector emits the
// snapshot, TRYSYNCs at the dump's offset and streams the binlog. Snapshot parts and binlog events exactly once,
// binlog only after the dump offset, snapshot + binlog replayed = the master. Then snapshot.mode=always (TRYSYNC
// force) with a SIGKILL inside the snapshot: the restart resumes from the pushed dump still on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startPikaMaster } from '../../pika-master/index.ts';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import type { WorkerProcess } from '../../helpers/worker-process.ts';
import { freeReplicaPort } from '../../unit/connector/pika/legacy/legacy-helpers.ts';
import { checkReplay, waitSnapshotsDone } from './full-sync-harness.ts';
import { legacyRun, waitLegacyCaughtUp, waitLog, type LegacyRun } from './legacy-harness.ts';
import { readCheckpoint } from '../../helpers/worker-process.ts';
import { sleep } from './pika-harness.ts';

const skip = rocksDbMissing() ?? false;

async function isFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
  });
}

/** A replica port whose + 1000 (binlog receiver) and + 3000 (rsync daemon) are free. */
async function replicaPort(): Promise<number> {
  for (;;) {
    const port = await freeReplicaPort();
    if (await isFree(port + 3000)) return port;
  }
}

function writeBefore(exec: (argv: string[]) => string): void {
  const ok = (...argv: string[]): void => assert.ok(!exec(argv).startsWith('-'), argv.join(' '));
  for (let i = 0; i < 300; i++) ok('SET', `s:${i}`, `v${i}:${'x'.repeat(200)}`);
  ok('HMSET', 'h:big', ...Array.from({ length: 250 }, (_, i) => [`f${i}`, `v${i}`]).flat());
  ok('RPUSH', 'l', ...Array.from({ length: 30 }, (_, i) => `i${i}`));
  ok('SADD', 'set', 'a', 'b', 'c');
  ok('ZADD', 'z', '1.5', 'mid', '-inf', 'bottom');
  ok('SETEX', 'ttl', '3600', 'later');
}

test('legacy-3.0: TRYSYNC answered "wait" (binlog purged) → rsync push to port + 3000 → snapshot, then binlog at the dump offset; replayed = the master', { skip, timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ profile: 'legacy-3.0', timeScale: 4, serverId: 3, binlogFileSize: 32 * 1024 });
  const port = await replicaPort();
  const run = await legacyRun(master, { 'pika.replica.port': port, 'snapshot.max.elements.per.event': 100 });
  appendFileSync(run.connectorFile, `snapshot.dir=${join(run.dir, 'dumps')}\n`);
  let worker: WorkerProcess | undefined;
  try {
    writeBefore((argv) => master.exec(0, argv).toString('latin1'));
    const top = master.binlogPosition(0).filenum;
    assert.ok(top >= 2, 'the data spans several binlog files');
    assert.deepEqual(master.faults.purgeBinlogs(0, 0), [0], 'write2file0 purged: a fresh replica needs a full sync');
    worker = run.start();
    await waitSnapshotsDone(run, [0], worker);
    master.exec(0, ['SET', 'after', '1']);
    master.exec(0, ['DEL', 's:1']);
    master.exec(0, ['LPUSH', 'l', 'new-head']);
    master.exec(0, ['HSET', 'h:big', 'f1', 'changed']);
    master.exec(0, ['ZADD', 'z', '2.5', 'added']);
    await waitLegacyCaughtUp(run, worker);
    await waitLog(worker, /replicating from the legacy Pika master/);
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);

    const trysyncs = master.legacy!.trysyncLog.map((t) => [t.request.slice(3).join(':'), t.reply.replace(/\r\n$/, '')]);
    assert.deepEqual(trysyncs[0], ['0:0', '$4\r\nwait'], 'the first TRYSYNC (0:0) is answered wait');
    assert.match(worker.log, /the master answered TRYSYNC with \\?"wait\\?": full sync pushed by its rsync/);
    assert.match(worker.log, /dump pushed by the master/);
    const dumpOffset = /"dump_offset":"(\d+):(\d+)"/.exec(worker.log.slice(worker.log.indexOf('dump pushed by the master')));
    assert.ok(dumpOffset, 'the dump offset is logged');
    assert.equal(trysyncs[1]![0], `${dumpOffset[1]}:${dumpOffset[2]}`, 'the next TRYSYNC asks at the dump offset');
    assert.match(trysyncs[1]![1], /^:\d+$/, 'and gets a slave id');
    const snapshot = await checkReplay(master, run, [0], '3.5');
    assert.equal(snapshot.filter((e) => e.key?.startsWith('s:')).length, 300, 'every string written before is in the snapshot once');
    assert.equal(snapshot.filter((e) => e.key === 'h:big').length, 3, 'the 250-field hash in 3 parts');
    assert.ok(!existsSync(join(run.dir, 'dumps', 'pushed', 'db0')), 'the pushed dump is deleted once its snapshot is committed');
  } finally {
    if (worker && worker.child.exitCode === null) await worker.kill('SIGKILL');
    killLeftoverDaemon(run);
    await master.stop();
  }
});

/** A SIGKILLed worker leaves its rsync daemon (own process group) behind: end it through the pid file. */
function killLeftoverDaemon(run: LegacyRun): void {
  try {
    const pid = Number(readFileSync(join(run.dir, 'dumps', 'rsync-push', 'control', 'rsyncd.owner.pid'), 'utf8'));
    if (pid > 1) process.kill(-pid, 'SIGKILL');
  } catch { /* none left */ }
}

function snapshotSeq(run: LegacyRun): number | 'done' | undefined {
  const o = readCheckpoint(run.checkpoints, run.connector, 0)?.offsets.find((x) => Number(x.partition.db) === 0)?.offset;
  if (!o) return undefined;
  return o.phase === 'snapshot' ? Number(o.seq) : 'done';
}

test('legacy-3.0, snapshot.mode=always: TRYSYNC force → pushed dump; SIGKILL inside the snapshot → the restart resumes from the dump on disk, no new full sync', { skip, timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ profile: 'legacy-3.0', timeScale: 4, serverId: 3 });
  const port = await replicaPort();
  const run = await legacyRun(master, { 'pika.replica.port': port, 'snapshot.mode': 'always', 'poll.max.records': 20 });
  appendFileSync(run.connectorFile, `snapshot.dir=${join(run.dir, 'dumps')}\n`);
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
