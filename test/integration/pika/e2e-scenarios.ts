// The end-to-end scenarios every test-master profile runs (profiles.ts), each with sync.protocol=auto:
//   events    — commands of every data type the profile supports, written to the master's RESP port, appear in
//               Kafka (read_committed) as the expected events, once each, in binlog order per key;
//   crash     — SIGKILL of the worker at random moments under a steady write load: every write exactly once;
//   full sync — data written before the connector exists → snapshot events, then binlog events (also writes made
//               while the full sync runs), nothing lost or duplicated across the switch; replayed = the master.
// The e2e-*.test.ts files pick the profiles, so CI runs them one file at a time.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaClient, kcatReadCommitted, readAllCommitted, type CommittedRecord } from '../../helpers/kafka.ts';
import { seededRandom, type WorkerProcess } from '../../helpers/worker-process.ts';
import type { PikaMaster } from '../../pika-master/index.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { writeData } from '../../unit/connector/pika/source/event-model.ts';
import { runWorkload, type WorkloadCommand } from './pika-workload.ts';
import { committedPositions, restUrl, sleep, waitLog } from './pika-harness.ts';
import { checkReplay, waitSnapshotsDone } from './full-sync-harness.ts';
import { assertAutoChoice, cleanUp, profileRun, startProfileMaster, waitProfileCaughtUp, waitProfileStreaming, type ProfileCase, type ProfileRun } from './profiles.ts';

type Got = { record: CommittedRecord; event: PikaEvent };
const parse = (records: CommittedRecord[]): Got[] => records.map((record) => ({ record, event: JSON.parse(record.value!.toString()) as PikaEvent }));
const binlogOrder = (a: Got, b: Got): number =>
  a.event.binlog!.filenum - b.event.binlog!.filenum || a.event.binlog!.offset - b.event.binlog!.offset || a.event.event_id.localeCompare(b.event.event_id);

/** The binlog topic holds exactly the workload's events: once each, per key on one partition in binlog order. */
function checkEvents(records: CommittedRecord[], workload: WorkloadCommand[]): Got[] {
  const got = parse(records);
  assert.equal(got.length, workload.reduce((n, c) => n + c.events.length, 0), 'every event once (no loss, no duplicate)');
  assert.equal(new Set(got.map((g) => g.event.event_id)).size, got.length, 'event_id unique per record, across DBs too');
  const byKey = new Map<string, Got[]>();
  for (const g of got) {
    const k = `${g.event.db}:${g.event.key_b64}`;
    byKey.set(k, [...(byKey.get(k) ?? []), g]);
  }
  for (const [k, list] of byKey) {
    assert.equal(new Set(list.map((g) => g.record.partition)).size, 1, `all events of ${k} on one partition`);
    const positions = list.map((g) => g.event.binlog!.filenum * 1e12 + g.event.binlog!.offset);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `events of ${k} in binlog order`);
  }
  for (const db of new Set(workload.map((c) => c.db))) {
    const ofDb = got.filter((g) => g.event.db === db).sort(binlogOrder);
    assert.deepEqual(ofDb.map((g) => [g.event.op, g.event.key]), workload.filter((c) => c.db === db).flatMap((c) => c.events), `db${db} events in binlog order`);
  }
  for (const g of got) {
    const key = g.record.key!.toString();
    assert.equal(key, g.event.key === null ? String(g.event.db) : `${g.event.db}:${g.event.data_type}:${g.event.key}`, 'Kafka key db:data_type:key');
    assert.equal(g.event.event_type, 'binlog');
    assert.equal(g.event.source_id, 'test-source');
  }
  return got;
}

export async function eventsScenario(c: ProfileCase): Promise<void> {
  const legacy = c.protocol === 'legacy';
  const master = await startProfileMaster(c, legacy ? { serverId: 5 } : {});
  // PB: snapshot.mode=never (start at the master's current position). Legacy: a fresh replica TRYSYNCs 0:0, so half
  // of the workload is written before the connector exists and streamed from the master's binlog.
  const run = await profileRun(c, master, legacy ? {} : { 'snapshot.mode': 'never' });
  const half = legacy ? Math.floor(c.workload.length / 2) : 0;
  await runWorkload(master.ports.resp, c.workload.slice(0, half));
  const worker = run.start();
  try {
    await waitProfileStreaming(run, worker);
    await assertAutoChoice(run, worker);
    await runWorkload(master.ports.resp, c.workload.slice(half));
    await waitProfileCaughtUp(run, worker);
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
    const got = checkEvents(await readAllCommitted(`pika.${run.cluster}.binlog`), c.workload);
    if (legacy) {
      assert.ok(got.every((g) => g.event.binlog!.server_id === 5 && g.event.event_id.startsWith('0:5:')), 'server_id in binlog and event_id');
      assert.equal(master.legacy!.slaves.size, 0, 'the master dropped the slave when the heartbeat closed');
    } else {
      assert.match(worker.log, /current binlog position/, 'the snapshot.mode=never start is logged');
      assert.equal(c.dbs.reduce((n, db) => n + master.repl.dbs[db]!.nodes.size, 0), 0, 'RemoveSlaveNode/close on graceful stop');
    }
  } finally {
    await cleanUp(run, [worker], master);
  }
}

/** Every written sequence number once, per key on one partition and in write order. */
function checkSequences(records: CommittedRecord[], written: number, reader: string): void {
  const seen = new Map<number, number>();
  const perKey = new Map<string, { partition: number; values: number[] }>();
  for (const { record, event } of parse(records)) {
    assert.equal(event.op, 'set');
    const seq = Number(Buffer.from(event.args_b64[1]!, 'base64').toString());
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
    const key = `${event.db}:${event.key}`;
    const entry = perKey.get(key) ?? { partition: record.partition, values: [] };
    assert.equal(entry.partition, record.partition, `${reader}: key ${key} on one partition`);
    entry.values.push(seq);
    perKey.set(key, entry);
  }
  const dupes = [...seen].filter(([, n]) => n > 1).map(([s]) => s);
  assert.deepEqual(dupes.slice(0, 10), [], `${reader}: duplicates (${dupes.length})`);
  const missing: number[] = [];
  for (let s = 0; s < written; s++) if (!seen.has(s)) missing.push(s);
  assert.deepEqual(missing.slice(0, 10), [], `${reader}: lost writes (${missing.length} of ${written})`);
  assert.equal(seen.size, written, `${reader}: nothing unexpected`);
  for (const [key, { values }] of perKey) assert.deepEqual(values, [...values].sort((a, b) => a - b), `${reader}: ${key} in write order`);
}

export async function crashScenario(c: ProfileCase, seed: number): Promise<void> {
  const legacy = c.protocol === 'legacy';
  // Legacy: small binlog files so the master rolls within the kill cycles (the resume point crosses files).
  const master = await startProfileMaster(c, legacy ? { binlogFileSize: 32 * 1024 } : {});
  let masterClosedConnections = 0;
  if (!legacy) {
    const repl = master.repl as unknown as { closeConn(conn: unknown): void };
    const closeConn = repl.closeConn.bind(repl);
    repl.closeConn = (conn) => { masterClosedConnections++; closeConn(conn); };
  }
  const run = await profileRun(c, master, legacy ? {} : { 'snapshot.mode': 'never' });
  const keys = legacy ? 10 : 20;
  const writesPerTick = legacy ? 5 : 10;
  const random = seededRandom(seed);
  let seq = 0;
  let writer: NodeJS.Timeout | undefined;
  const workers: WorkerProcess[] = [run.start()];
  let worker = workers[0]!;
  try {
    await waitProfileStreaming(run, worker);
    await assertAutoChoice(run, worker);
    writer = setInterval(() => {
      for (let i = 0; i < writesPerTick; i++, seq++) master.exec(c.dbs[seq % c.dbs.length]!, ['SET', `k${seq % keys}`, String(seq)]);
    }, 20);
    for (let kill = 0; kill < c.kills; kill++) {
      if (kill > 0) workers.push(worker = run.start());
      // Kill only after this incarnation committed something, and every DB has a committed position (a DB without
      // one restarts at the master's current position under snapshot.mode=never, skipping writes by design).
      const before = JSON.stringify([...committedPositions(run)]);
      const progressed = (): boolean => {
        const now = committedPositions(run);
        return JSON.stringify([...now]) !== before && c.dbs.every((db) => now.has(db));
      };
      while (!progressed()) {
        assert.equal(worker.child.exitCode, null, `worker exited early; log tail:\n${worker.log.slice(-3000)}`);
        await sleep(50);
      }
      await sleep(Math.floor(random() * (legacy ? 1500 : 1000)));
      await worker.kill('SIGKILL');
    }
    clearInterval(writer);
    writer = undefined;
    const written = seq;
    if (legacy) assert.ok(master.binlogPosition(0).filenum >= 1, 'the master rolled binlog files during the test');
    workers.push(worker = run.start());
    await waitProfileCaughtUp(run, worker, 240_000);
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
    if (!legacy) assert.equal(masterClosedConnections, 0, 'the master never closed a replication connection');
    const topic = `pika.${run.cluster}.binlog`;
    checkSequences(await readAllCommitted(topic), written, 'kafkajs read_committed');
    checkSequences(await kcatReadCommitted(topic), written, 'kcat read_committed');
  } finally {
    if (writer) clearInterval(writer);
    await cleanUp(run, workers, master);
  }
}

/** Legacy data (one keyspace, no streams) spanning several 32 KB binlog files. */
function writeLegacyData(master: PikaMaster): void {
  const ok = (...argv: string[]): void => assert.ok(!master.exec(0, argv).toString('latin1').startsWith('-'), argv.join(' '));
  for (let i = 0; i < 300; i++) ok('SET', `s:${i}`, `v${i}:${'x'.repeat(200)}`);
  ok('HMSET', 'h:big', ...Array.from({ length: 250 }, (_, i) => [`f${i}`, `v${i}`]).flat());
  ok('RPUSH', 'l', ...Array.from({ length: 30 }, (_, i) => `i${i}`));
  ok('SADD', 'set', 'a', 'b', 'c');
  ok('ZADD', 'z', '1.5', 'mid', '-inf', 'bottom');
  ok('SETEX', 'ttl', '3600', 'later');
}

/** Writes `during:<n>` to every DB every 20 ms until stopped (returns how many per DB): some land in the dump, some after it. */
function writeDuringFullSync(master: PikaMaster, dbs: number[]): () => number {
  let n = 0;
  const timer = setInterval(() => {
    for (const db of dbs) master.exec(db, ['SET', `during:${n}`, String(n)]);
    n++;
  }, 20);
  return () => { clearInterval(timer); return n; };
}

/** Each write made while the full sync ran is in exactly one of the snapshot and the binlog — and both got some. */
async function checkAcrossSwitch(run: ProfileRun, snapshot: SnapshotEvents, written: number): Promise<void> {
  const binlog = parse(await readAllCommitted(`pika.${run.cluster}.binlog`)).map((g) => g.event);
  for (const db of run.c.dbs) {
    const inSnapshot = snapshot.filter((e) => e.db === db && e.key?.startsWith('during:')).map((e) => e.key!);
    const inBinlog = binlog.filter((e) => e.db === db && e.key?.startsWith('during:')).map((e) => e.key!);
    const all = [...inSnapshot, ...inBinlog].sort();
    const expected = Array.from({ length: written }, (_, n) => `during:${n}`).sort();
    assert.deepEqual(all, expected, `db${db}: every write made during the full sync once, in the snapshot or in the binlog`);
    assert.ok(inSnapshot.length > 0 && inBinlog.length > 0, `db${db}: writes on both sides of the switch (${inSnapshot.length} in the snapshot, ${inBinlog.length} in the binlog)`);
  }
}

export async function fullSyncScenario(c: ProfileCase): Promise<void> {
  const legacy = c.protocol === 'legacy';
  const pb34 = c.profile === 'pb-3.4';
  const master = await startProfileMaster(c, legacy ? { serverId: 3, binlogFileSize: 32 * 1024 } : pb34 ? { requirepass: 'sekret' } : {});
  // 3.1–3.4: the master pushes to pika.replica.port + 1000, with the master password as the rsync secret.
  const run = await profileRun(c, master, { 'snapshot.mode': 'initial', 'snapshot.max.elements.per.event': 100, ...(pb34 ? { 'pika.password': 'sekret' } : {}) }, pb34);
  const workers: WorkerProcess[] = [];
  try {
    if (legacy) {
      writeLegacyData(master);
      assert.ok(master.binlogPosition(0).filenum >= 2, 'the data spans several binlog files');
      assert.deepEqual(master.faults.purgeBinlogs(0, 0), [0], 'write2file0 purged: a fresh replica needs a full sync');
    } else {
      writeData(master, 0, 'a');
      writeData(master, 1, 'b');
    }
    const worker = run.start();
    workers.push(worker);
    const stopWrites = writeDuringFullSync(master, c.dbs);
    let during: number;
    try {
      await waitSnapshotsDone(run, c.dbs, worker);
    } finally {
      during = stopWrites();
    }
    await assertAutoChoice(run, worker);
    master.exec(0, ['SET', 'after', '1']);
    master.exec(0, ['DEL', legacy ? 's:1' : 'a:s:1']);
    master.exec(0, ['LPUSH', legacy ? 'l' : 'a:l', 'new-head']);
    master.exec(c.dbs.at(-1)!, ['HSET', legacy ? 'h:big' : 'b:big', 'f1', 'changed']);
    master.exec(c.dbs.at(-1)!, ['ZADD', legacy ? 'z' : 'b:z', '2.5', 'added']);
    await waitProfileCaughtUp(run, worker);
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);

    // Exactly once per snapshot part and binlog event; binlog only after the dump offset; replayed = the master.
    const snapshot = await checkReplay(master, run, c.dbs, c.model);
    assert.equal(snapshot.filter((e) => e.op === 'snapshot-start').length, c.dbs.length, 'one snapshot per DB');
    await checkAcrossSwitch(run, snapshot, during);
    if (legacy) checkLegacyFullSync(run, worker, snapshot);
    else checkPbFullSync(run, worker, snapshot);
  } finally {
    await cleanUp(run, workers, master);
  }
}

type SnapshotEvents = Awaited<ReturnType<typeof checkReplay>>;

function checkPbFullSync(run: ProfileRun, worker: WorkerProcess, snapshot: SnapshotEvents): void {
  assert.equal(snapshot.filter((e) => e.key === 'a:big').length, 5, 'the 450-field hash in 5 parts');
  if (run.c.profile === '3.5') {
    assert.match(worker.log, /do not carry streams/, 'the 3.5 stream loss is in the log');
    const start = snapshot.find((e) => e.op === 'snapshot-start')!;
    assert.ok(start.warnings.some((w) => /streams/.test(w)), 'and in the snapshot-start event');
  }
  if (run.c.profile !== 'pb-3.4') return;
  const target = `127.0.0.1:${run.replicaPort! + 1000}`;
  const pushes = run.master.rsyncPush!.results;
  assert.deepEqual(pushes.map((p) => [p.db, p.ok, p.target]).sort(), [[0, true, target], [1, true, target]], 'one successful push per DB to pika.replica.port + 1000');
  assert.match(worker.log, /rsync daemon listening/);
  assert.match(worker.log, /dump pushed by the master/);
  assert.doesNotMatch(worker.log, /downloading the dump over rsync2/);
  assert.throws(() => readFileSync(join(run.dir, 'dumps', 'rsync-push', 'control', 'rsyncd.owner.pid')), 'the daemon is stopped with the task');
  for (const db of ['db0', 'db1']) assert.ok(!existsSync(join(run.dir, 'dumps', 'pushed', db)), `${db}: the pushed dump is deleted once its snapshot is committed`);
}

function checkLegacyFullSync(run: ProfileRun, worker: WorkerProcess, snapshot: SnapshotEvents): void {
  assert.match(worker.log, /replicating from the legacy Pika master/);
  const trysyncs = run.master.legacy!.trysyncLog.map((t) => [t.request.slice(3).join(':'), t.reply.replace(/\r\n$/, '')]);
  assert.deepEqual(trysyncs[0], ['0:0', '$4\r\nwait'], 'the first TRYSYNC (0:0) is answered wait');
  assert.match(worker.log, /the master answered TRYSYNC with \\?"wait\\?": full sync pushed by its rsync/);
  assert.match(worker.log, /dump pushed by the master/);
  const dumpOffset = /"dump_offset":"(\d+):(\d+)"/.exec(worker.log.slice(worker.log.indexOf('dump pushed by the master')));
  assert.ok(dumpOffset, 'the dump offset is logged');
  assert.equal(trysyncs[1]![0], `${dumpOffset[1]}:${dumpOffset[2]}`, 'the next TRYSYNC asks at the dump offset');
  assert.match(trysyncs[1]![1]!, /^:\d+$/, 'and gets a slave id');
  assert.equal(snapshot.filter((e) => e.key?.startsWith('s:')).length, 300, 'every string written before is in the snapshot once');
  assert.equal(snapshot.filter((e) => e.key === 'h:big').length, 3, 'the 250-field hash in 3 parts');
  assert.ok(!existsSync(join(run.dir, 'dumps', 'pushed', 'db0')), 'the pushed dump is deleted once its snapshot is committed');
}

/**
 * Pika 2.x pushes a Nemo dump on a full sync (pika-protocol.md §1), which the connector cannot read: a fresh
 * replica whose TRYSYNC 0:0 is answered `wait` (binlog purged), and one with snapshot.mode=always (TRYSYNC force),
 * fail with an error saying so and what to do instead; no daemon is started and nothing is emitted.
 */
export async function fullSyncUnsupportedScenario(c: ProfileCase): Promise<void> {
  const master = await startProfileMaster(c, { binlogFileSize: 32 * 1024 });
  const purged = await profileRun(c, master, { 'snapshot.mode': 'initial' });
  const forced = await profileRun(c, master, { 'snapshot.mode': 'always' });
  const workers: WorkerProcess[] = [];
  try {
    writeLegacyData(master);
    assert.deepEqual(master.faults.purgeBinlogs(0, 0), [0], 'write2file0 purged: a fresh replica needs a full sync');
    for (const run of [purged, forced]) workers.push(run.start());
    for (const worker of workers) {
      await waitLog(worker, /Pika 2\.3\.6 and answered TRYSYNC with \\?"wait\\?".*Nemo-format dump, which pika-connect cannot read/);
      assert.match(worker.log, /snapshot\.mode=never/, 'the error says how to start without a full sync');
      assert.doesNotMatch(worker.log, /rsync daemon listening/, 'no rsync daemon was started for a dump it cannot read');
    }
    await assertAutoChoice(purged, workers[0]!);
    for (const [i, run] of [purged, forced].entries()) {
      const state = await fetch(`${await restUrl(workers[i]!)}/connectors/${encodeURIComponent(run.connector)}/tasks/0/status`).then((r) => r.json()) as { state: string };
      assert.equal(state.state, 'FAILED', 'the task stays FAILED: a restart cannot make the dump readable');
    }
    const asked = master.legacy!.trysyncLog.map((t) => [t.request.slice(3).join(':'), t.reply]);
    assert.deepEqual(asked.map(([at]) => at).sort(), ['0:0', '4294967295:0'], 'one TRYSYNC per connector: the master is not asked for another bgsave');
    for (const from of ['0:0', '4294967295:0']) assert.ok(asked.some(([at, reply]) => at === from && reply === '$4\r\nwait\r\n'), `TRYSYNC ${from} answered wait`);
    for (const worker of workers) await worker.kill('SIGTERM');
    for (const run of [purged, forced]) {
      assert.deepEqual(await committedIfAny(`pika.${run.cluster}.snapshot`), [], 'no snapshot event');
      assert.deepEqual(await committedIfAny(`pika.${run.cluster}.binlog`), [], 'no binlog event');
    }
  } finally {
    await cleanUp(undefined, workers, master); // (no rsync daemon to end: none was started)
  }
}

/** The topic's committed records; none when the topic was never created. */
async function committedIfAny(topic: string): Promise<CommittedRecord[]> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return [];
  } finally {
    await admin.disconnect();
  }
  return readAllCommitted(topic);
}
