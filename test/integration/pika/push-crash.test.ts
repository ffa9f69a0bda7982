// SIGKILL of the worker during a Pika 3.1–3.4 pushed full sync, on real Kafka, under a steady write load: twice while
// the master's rsync pushes the dump into the connector's daemon (the test master's push slowed with --bwlimit) and
// twice while the snapshot is emitted. The killed worker's rsync daemon (on pika.replica.port + 1000, in its own
// process group) must never block the restart: where setpriv can tie it to its owner (--pdeathsig), it dies with the
// killed worker; elsewhere each restart finds it still running and stops it itself — the test never does. At the end
// Kafka (read_committed) holds every snapshot event (each key part) and every binlog event exactly once, and the
// snapshot replayed with the binlog equals the master.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentDeathWrapper } from '../../../connector/pika/rsync-daemon/parent-death.ts';
import { startPikaMaster } from '../../pika-master/index.ts';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { seededRandom, type WorkerProcess } from '../../helpers/worker-process.ts';
import { checkReplay, snapshotSeq, waitSnapshotsDone } from './full-sync-harness.ts';
import { freeReplicaPort, killLeftoverDaemon, pikaRun, sleep, waitCaughtUp, waitLog } from './pika-harness.ts';

const skip = rocksDbMissing() ?? false;

/** Files the master's rsync has written so far into the daemon's receiving directory of db0 (temp files included). */
function filesArrived(dir: string): number {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  } catch {
    return 0;
  }
}

/** The pid of the connector's rsync daemon, from its pid file (none: no daemon recorded). */
function daemonPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'dumps', 'rsync-push', 'control', 'rsyncd.owner.pid'), 'utf8'));
    return pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs (a zombie does not: an orphan's exit may never be reaped where PID 1 does not reap). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('pb-3.4: SIGKILL twice during the rsync push and twice during snapshot emission → every snapshot and binlog event exactly once; the killed worker\'s daemon never blocks the next', { skip, timeout: 240_000 }, async () => {
  const master = await startPikaMaster({ profile: 'pb-3.4', dbs: 1 });
  const replicaPort = await freeReplicaPort([1000]);
  const run = pikaRun(master, {
    'snapshot.mode': 'initial', 'pika.replica.ip': '127.0.0.1', 'pika.replica.port': replicaPort, 'pika.replica.rsync.bind': '127.0.0.1',
    'poll.max.records': 20, 'snapshot.push.timeout.ms': 5000,
  });
  const random = seededRandom(7);
  const diesWithOwner = (await parentDeathWrapper()) !== undefined;
  const workers: WorkerProcess[] = [];
  let written = 0;
  const load = setInterval(() => { master.exec(0, ['SET', `w:${written % 50}`, String(written)]); written++; }, 20);
  try {
    for (let i = 0; i < 2000; i++) master.exec(0, ['SET', `k:${i}`, `v${i}:${'x'.repeat(64)}`]);
    master.exec(0, ['HMSET', 'h', ...Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`]).flat()]);

    // 1–2: killed while the master pushes (slowed to 64 KB/s): files are arriving, nothing was emitted yet.
    master.rsyncPush!.bwlimitKbps = 64;
    const receiving = join(run.dir, 'dumps', 'rsync-push', 'module', 'db0');
    for (let kill = 0; kill < 2; kill++) {
      const worker = run.start();
      workers.push(worker);
      await waitLog(worker, /waiting for the master to push the dump to the rsync daemon/, 90_000);
      while (filesArrived(receiving) === 0) {
        assert.equal(worker.child.exitCode, null, `worker died; log tail:\n${worker.log.slice(-3000)}`);
        await sleep(20);
      }
      await sleep(Math.floor(random() * 500));
      assert.equal(snapshotSeq(run), undefined, 'killed during the push: no snapshot event committed yet');
      const daemon = daemonPid(run.dir);
      assert.ok(daemon !== undefined && alive(daemon), 'the push goes to a running daemon');
      await worker.kill('SIGKILL');
      if (diesWithOwner) {
        for (let t = 0; alive(daemon); t++) {
          assert.ok(t < 500, `the daemon (pid ${daemon}) died with its SIGKILLed owner`);
          await sleep(20);
        }
      }
    }
    master.rsyncPush!.bwlimitKbps = undefined;

    // 3–4: killed while the snapshot is emitted (20 records per poll); the restart resumes from the pushed dump.
    let seq = -1;
    for (let kill = 0; kill < 2; kill++) {
      const worker = run.start();
      workers.push(worker);
      for (let s = snapshotSeq(run); typeof s !== 'number' || s <= seq; s = snapshotSeq(run)) {
        assert.notEqual(s, 'done', 'the snapshot finished before the kill: make the dump bigger');
        assert.equal(worker.child.exitCode, null, `worker died; log tail:\n${worker.log.slice(-3000)}`);
        await sleep(20);
      }
      await worker.kill('SIGKILL');
      const at = snapshotSeq(run);
      assert.ok(typeof at === 'number', `killed inside the snapshot (committed ${String(at)})`);
      seq = at;
    }

    const last = run.start();
    workers.push(last);
    await waitSnapshotsDone(run, [0], last);
    clearInterval(load);
    master.exec(0, ['SET', 'after', 'done']);
    await waitCaughtUp(master, run, [0], last);
    assert.equal(await last.kill('SIGTERM'), 0, `graceful stop; log tail:\n${last.log.slice(-3000)}`);

    const logs = workers.map((w) => w.log).join('\n');
    const leftovers = (logs.match(/stopping an rsync daemon left over by an earlier run of this connector/g) ?? []).length;
    if (!diesWithOwner) assert.ok(leftovers >= 3, `the restarts stopped the killed workers' daemons themselves (${leftovers} times)`);
    assert.doesNotMatch(logs, /PIKA_RSYNCD_BIND|cannot bind/, 'no restart was blocked by a stale daemon');
    assert.match(last.log, /resuming the snapshot after its last committed event|the pushed dump of the interrupted snapshot is still on local disk/);
    const snapshot = await checkReplay(master, run, [0], '3.5');
    assert.equal(snapshot.filter((e) => e.op === 'snapshot-start').length, 1, 'the snapshot never started over');
    assert.equal(snapshot.filter((e) => e.key?.startsWith('k:')).length, 2000, 'every key\'s snapshot event once');
  } finally {
    clearInterval(load);
    for (const w of workers) if (w.child.exitCode === null) await w.kill('SIGKILL');
    killLeftoverDaemon(run);
    await master.stop();
  }
});
