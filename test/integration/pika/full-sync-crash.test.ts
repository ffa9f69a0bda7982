// SIGKILL of the worker during a full sync — while the dump downloads (throttled, so it takes a while) and while
// its snapshot events are emitted — 10 times in all, each kill only after that incarnation made progress (a
// downloaded file / a committed snapshot transaction). Afterwards: every snapshot event exactly once, snapshot +
// binlog replayed = the master, the download resumed from its journal (kept files), every restart during
// emission resumed after the last committed event of the same dump instead of starting over, and the dump is
// deleted once the snapshot-end is committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPikaMaster } from '../../pika-master/index.ts';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { seededRandom, type WorkerProcess } from '../../helpers/worker-process.ts';
import { checkReplay, fullSyncRun, snapshotSeq, waitSnapshotsDone } from './full-sync-harness.ts';
import { sleep, waitCaughtUp } from './pika-harness.ts';

const KILLS = 10;
const DOWNLOAD_KILLS = 4;
const KEYS = 40_000;

function journalFiles(dir: string): { files: number; complete: boolean } {
  try {
    const j = JSON.parse(readFileSync(join(dir, 'db0', 'rsync-journal.json'), 'utf8')) as { files: Record<string, number>; complete: boolean };
    return { files: Object.keys(j.files).length, complete: j.complete };
  } catch {
    return { files: 0, complete: false };
  }
}

const logLines = (log: string, msg: string): Array<Record<string, unknown>> =>
  log.split('\n').filter((l) => l.includes(msg)).map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } });

test(`SIGKILL ${KILLS} times during a full sync (download and snapshot emission): exactly once, resumed not restarted`, { skip: rocksDbMissing() ?? false, timeout: 300_000 }, async () => {
  const master = await startPikaMaster({ dbs: 1, dbInstanceNum: 8 });
  for (let i = 0; i < KEYS; i++) master.exec(0, ['SET', `key:${i}`, randomBytes(110).toString('base64')]);
  master.exec(0, ['HMSET', 'bighash', ...Array.from({ length: 3000 }, (_, i) => [`f${i}`, `v${i}`]).flat()]);
  const run = fullSyncRun(master, { 'snapshot.fetch.max.bytes.per.second': 1_000_000, 'poll.max.records': 500 });
  // (Dump ≈ 8 MB in 8 instances: ≥ 8 s of throttled download; ≈ 43k snapshot events.)
  const dumps = join(run.dir, 'dumps');
  const random = seededRandom(5_2026_1122);
  const workers: WorkerProcess[] = [];
  let live = 0;
  let downloadKills = 0;
  let emissionKills = 0;
  let worker = run.start();
  workers.push(worker);
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      if (kill > 0) {
        worker = run.start();
        workers.push(worker);
      }
      master.exec(0, ['SET', `live:${live++}`, 'x']); // binlog writes between the restarts
      const deadline = Date.now() + 90_000;
      const alive = (): void => assert.ok(worker.child.exitCode === null && Date.now() < deadline, `worker exited or stuck; log tail:\n${worker.log.slice(-3000)}`);
      const journal = journalFiles(dumps);
      if (downloadKills < DOWNLOAD_KILLS && !journal.complete) {
        // Kill during the download, after at least one more file is complete.
        while (journalFiles(dumps).files <= journal.files && !journalFiles(dumps).complete) { alive(); await sleep(20); }
        if (!journalFiles(dumps).complete) {
          await sleep(Math.floor(random() * 300));
          await worker.kill('SIGKILL');
          downloadKills++;
          continue;
        }
      }
      // Kill during the emission, after this incarnation committed a snapshot transaction.
      const before = snapshotSeq(run);
      assert.notEqual(before, 'done', 'the snapshot finished before all kills: make the dump bigger');
      for (let s = snapshotSeq(run); s === before || s === undefined; s = snapshotSeq(run)) { alive(); await sleep(20); }
      await sleep(Math.floor(random() * 150)); // short: a fast machine must not finish the 43k events before the last kill
      await worker.kill('SIGKILL');
      assert.notEqual(snapshotSeq(run), 'done', 'killed after the snapshot finished: make the dump bigger');
      emissionKills++;
    }
    worker = run.start();
    workers.push(worker);
    master.exec(0, ['SET', `live:${live++}`, 'x']);
    await waitSnapshotsDone(run, [0], worker, 180_000);
    master.exec(0, ['SET', `live:${live++}`, 'x']);
    await waitCaughtUp(master, run, [0], worker);
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);

    assert.equal(downloadKills + emissionKills, KILLS);
    assert.ok(downloadKills >= 2 && emissionKills >= 4, `kills: ${downloadKills} during the download, ${emissionKills} during the emission`);
    // Exactly once per key part and control event; snapshot + binlog = the master.
    const snapshot = await checkReplay(master, run, [0], '4.0');
    assert.equal(snapshot.filter((e) => e.op === 'snapshot-start').length, 1, 'the snapshot never started over');
    assert.equal(new Set(snapshot.map((e) => e.snapshot.dump_uuid)).size, 1, 'one dump all along');
    // The download kept completed files across kills; every emission restart resumed after its committed event.
    const logs = workers.map((w) => w.log).join('\n');
    const downloads = logLines(logs, '"dump downloaded"');
    assert.ok(downloads.length >= 1 && downloads.some((d) => Number(d.files_resumed) > 0), `the download resumed from its journal: ${JSON.stringify(downloads)}`);
    const resumes = logLines(logs, 'resuming the snapshot after its last committed event');
    assert.ok(resumes.length >= emissionKills, `each restart after an emission kill resumed (${resumes.length} resume lines, ${emissionKills} kills)`);
    assert.ok(resumes.every((r) => r.stage === 'keys' || r.stage === 'start'));
    assert.equal(logLines(logs, 'restarts from its beginning').length, 0, 'no snapshot restart');
    // snapshot.download.cleanup (default true): the dump was kept through every kill and deleted after snapshot-end.
    assert.deepEqual(readdirSync(join(dumps, 'db0')).filter((n) => n.startsWith('dump-')), [], 'the downloaded dump is deleted once snapshot-end is committed');
    assert.equal(logLines(logs, 'downloaded dump deleted').length, 1);
  } finally {
    for (const w of workers) if (w.child.exitCode === null) await w.kill('SIGKILL');
    await master.stop();
  }
});
