// Pika 3.1–3.4 end to end on real Kafka: the 'pb-3.4' test master (no run_id in MetaSync, no rsync2 port) answers
// DBSync by pushing its dump with the real `rsync` client into the rsync daemon the connector starts on
// pika.replica.port + 1000 (module document, rsync_user, the master's requirepass); the connector waits for `info`,
// emits the snapshot, continues the binlog at the dump offset. Replayed snapshot + binlog = the master; every
// snapshot part and binlog event exactly once. Also: without pika.replica.ip/port the task fails saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startPikaMaster, type PikaMaster } from '../../pika-master/index.ts';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { writeData } from '../../unit/connector/pika/source/event-model.ts';
import { pikaRun, sleep, waitCaughtUp, type PikaRun } from './pika-harness.ts';
import type { WorkerProcess } from '../../helpers/worker-process.ts';
import { checkReplay, waitSnapshotsDone } from './full-sync-harness.ts';

const skip = rocksDbMissing() ?? false;

/** A port p with p + 1000 free as well (the rsync daemon's). */
async function replicaPort(): Promise<number> {
  const listen = (port: number): Promise<ReturnType<typeof createServer> | undefined> => new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(undefined));
    s.listen(port, '127.0.0.1', () => ok(s));
  });
  for (;;) {
    const first = (await listen(0))!;
    const port = (first.address() as { port: number }).port;
    const second = port + 1000 <= 65535 ? await listen(port + 1000) : undefined;
    await new Promise<void>((ok) => first.close(() => ok()));
    if (second) {
      await new Promise<void>((ok) => second.close(() => ok()));
      return port;
    }
  }
}

function pb34Run(master: PikaMaster, props: Record<string, string | number>): PikaRun {
  const run = pikaRun(master, { 'snapshot.mode': 'initial', 'snapshot.max.elements.per.event': 100, 'pika.password': 'sekret', ...props });
  appendFileSync(run.connectorFile, `snapshot.dir=${join(run.dir, 'dumps')}\n`);
  return run;
}

/** A SIGKILLed worker leaves its rsync daemon (own process group) behind: end it through the pid file. */
function killLeftoverDaemon(run: PikaRun): void {
  try {
    const pid = Number(readFileSync(join(run.dir, 'dumps', 'rsync-push', 'control', 'rsyncd.owner.pid'), 'utf8'));
    if (pid > 1) process.kill(-pid, 'SIGKILL');
  } catch { /* none */ }
}

test('pb-3.4: DBSync → the master pushes the dump into our rsync daemon → snapshot, then binlog at the dump offset; replayed = the master (2 DBs)', { skip, timeout: 240_000 }, async () => {
  const master = await startPikaMaster({ dbs: 2, profile: 'pb-3.4', requirepass: 'sekret' });
  const port = await replicaPort();
  const run = pb34Run(master, { 'pika.replica.ip': '127.0.0.1', 'pika.replica.port': port, 'pika.replica.rsync.bind': '127.0.0.1' });
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

    const pushes = master.rsyncPush!.results;
    assert.deepEqual(pushes.map((p) => [p.db, p.ok, p.target]).sort(), [[0, true, `127.0.0.1:${port + 1000}`], [1, true, `127.0.0.1:${port + 1000}`]], 'one successful push per DB to pika.replica.port + 1000');
    assert.match(worker.log, /rsync daemon listening/);
    assert.match(worker.log, /dump pushed by the master/);
    assert.doesNotMatch(worker.log, /downloading the dump over rsync2/);
    const snapshot = await checkReplay(master, run, [0, 1], '3.5');
    assert.equal(snapshot.filter((e) => e.key === 'a:big').length, 5, 'the 450-field hash in 5 parts');
    assert.throws(() => readFileSync(join(run.dir, 'dumps', 'rsync-push', 'control', 'rsyncd.owner.pid')), 'the daemon is stopped with the task');
    for (const db of ['db0', 'db1']) assert.ok(!existsSync(join(run.dir, 'dumps', 'pushed', db)), `${db}: the pushed dump is deleted once its snapshot is committed`);
  } finally {
    if (worker && worker.child.exitCode === null) await worker.kill('SIGKILL');
    killLeftoverDaemon(run);
    await master.stop();
  }
});

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
