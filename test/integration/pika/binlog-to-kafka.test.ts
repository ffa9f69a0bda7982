// End to end: commands written to the test master's RESP port → Pika connector in a worker child process → Kafka,
// read back with read_committed. Every command's events appear once, in binlog order per key, with the keys and
// partitioning the connector promises; dual and single stream mode; two DBs on one replication connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { readAllCommitted, uniqueName, type CommittedRecord } from '../../helpers/kafka.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { runWorkload, WORKLOAD } from './pika-workload.ts';
import { pikaRun, waitCaughtUp, waitStreaming } from './pika-harness.ts';

const events = (records: CommittedRecord[]): Array<{ record: CommittedRecord; event: PikaEvent }> =>
  records.map((record) => ({ record, event: JSON.parse(record.value!.toString()) as PikaEvent }));

/** The workload's events, in order per DB, as [db, op, key]. */
function expectedPerDb(): Map<number, Array<[string, string | null]>> {
  const out = new Map<number, Array<[string, string | null]>>();
  for (const c of WORKLOAD) {
    if (!out.has(c.db)) out.set(c.db, []);
    out.get(c.db)!.push(...c.events);
  }
  return out;
}

function checkEvents(records: CommittedRecord[], expectedTopicEvents: number): void {
  const got = events(records);
  assert.equal(got.length, expectedTopicEvents, 'every event once (no loss, no duplicate)');
  const ids = new Set(got.map((g) => g.event.event_id));
  assert.equal(ids.size, got.length, 'event_id unique per record, across DBs too');
  // Per key: one partition, binlog order (by item position then index).
  const byKey = new Map<string, typeof got>();
  for (const g of got) {
    const k = `${g.event.db}:${g.event.key_b64}`;
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(g);
  }
  for (const [k, list] of byKey) {
    assert.equal(new Set(list.map((g) => g.record.partition)).size, 1, `all events of ${k} on one partition`);
    const positions = list.map((g) => g.event.binlog!.filenum * 1e12 + g.event.binlog!.offset);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `events of ${k} in binlog order`);
  }
  // Per DB in binlog order, the expected ops and keys.
  for (const [db, expected] of expectedPerDb()) {
    const ofDb = got.filter((g) => g.event.db === db).sort((a, b) =>
      a.event.binlog!.filenum - b.event.binlog!.filenum || a.event.binlog!.offset - b.event.binlog!.offset || a.event.event_id.localeCompare(b.event.event_id));
    assert.deepEqual(ofDb.map((g) => [g.event.op, g.event.key]), expected, `db${db} events`);
  }
  for (const g of got) {
    const key = g.record.key!.toString();
    assert.equal(key, g.event.key === null ? String(g.event.db) : `${g.event.db}:${g.event.data_type}:${g.event.key}`, 'Kafka key db:data_type:key');
    assert.equal(g.event.event_type, 'binlog');
    assert.equal(g.event.source_id, 'test-source');
  }
}

const totalEvents = WORKLOAD.reduce((n, c) => n + c.events.length, 0);

test('dual mode, two DBs: every command of every data type appears once in the binlog topic, in order per key', { timeout: 240_000 }, async () => {
  const master = await startPikaMaster({ dbs: 2 });
  const run = pikaRun(master);
  const worker = run.start();
  try {
    await waitStreaming(master, [0, 1], worker);
    await runWorkload(master.ports.resp);
    await waitCaughtUp(master, run, [0, 1], worker);
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
    assert.match(worker.log, /current binlog position/, 'the snapshot.mode=never start is logged');
    checkEvents(await readAllCommitted(`pika.${run.cluster}.binlog`), totalEvents);
    assert.equal(master.repl.dbs[0]!.nodes.size + master.repl.dbs[1]!.nodes.size, 0, 'RemoveSlaveNode/close on graceful stop');
  } finally {
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});

test('single mode, pika.dbs=db1 only: events go to topic.single; a restart resumes from the committed offset without duplicates', { timeout: 240_000 }, async () => {
  const master = await startPikaMaster({ dbs: 2 });
  const topic = uniqueName('pika-single');
  const run = pikaRun(master, { 'stream.mode': 'single', 'topic.single': topic, 'pika.dbs': 'db1' });
  let worker = run.start();
  try {
    await waitStreaming(master, [1], worker);
    const db1 = WORKLOAD.filter((c) => c.db === 1);
    await runWorkload(master.ports.resp, db1.slice(0, 2));
    await waitCaughtUp(master, run, [1], worker);
    assert.equal(await worker.kill('SIGTERM'), 0);
    await runWorkload(master.ports.resp, db1.slice(2)); // written while the connector is down
    worker = run.start();
    await waitCaughtUp(master, run, [1], worker);
    assert.match(worker.log, /resuming from the committed offset/);
    assert.equal(await worker.kill('SIGTERM'), 0);
    const got = events(await readAllCommitted(topic)).sort((a, b) => a.event.binlog!.offset - b.event.binlog!.offset);
    assert.deepEqual(got.map((g) => [g.event.db, g.event.op, g.event.key]), db1.flatMap((c) => c.events.map(([op, key]) => [1, op, key])));
    assert.equal(master.repl.dbs[0]!.nodes.size, 0, 'db0 was never asked for');
  } finally {
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});
