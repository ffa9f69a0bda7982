// End to end against the test master's legacy profiles (Pika 3.0 frames, Pika 2.x raw RESP): commands of every data
// type written before and after the connector starts → Kafka, read back read_committed: each event once, in binlog
// order per key; sync.protocol=auto picks legacy for both and PB for a 4.0 master; the classic misconfigurations
// fail with errors that name the port and what it is for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { readAllCommitted } from '../../helpers/kafka.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { runWorkload, WORKLOAD } from './pika-workload.ts';
import { pikaRun, waitStreaming } from './pika-harness.ts';
import { legacyRun, waitLegacyCaughtUp, waitLog } from './legacy-harness.ts';

// 3.0 has one keyspace and no streams (XADD is rejected by a real 3.0: pika-vectors-3.0.16-legacy README).
const LEGACY_WORKLOAD = WORKLOAD.filter((c) => c.db === 0 && c.argv[0] !== 'XADD');

for (const profile of ['legacy-3.0', 'legacy-2.x'] as const) {
  test(`${profile}: every command of every data type appears once, in order per key (auto → legacy)`, { timeout: 180_000 }, async () => {
    const master = await startPikaMaster({ profile, timeScale: 4, serverId: 5 });
    const run = await legacyRun(master);
    const half = Math.floor(LEGACY_WORKLOAD.length / 2);
    await runWorkload(master.ports.resp, LEGACY_WORKLOAD.slice(0, half)); // before: streamed from 0:0
    const worker = run.start();
    try {
      await waitLog(worker, /replicating from the legacy Pika master/);
      assert.match(worker.log, /replication protocol: legacy \(Pika legacy-(3\.0|2\.x)\)/);
      assert.ok(worker.log.includes(`"profile":"${profile}"`), 'the stream\'s profile is logged');
      await runWorkload(master.ports.resp, LEGACY_WORKLOAD.slice(half));
      await waitLegacyCaughtUp(run, worker);
      assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
      const got = (await readAllCommitted(`pika.${run.cluster}.binlog`)).map((r) => ({ r, e: JSON.parse(r.value!.toString()) as PikaEvent }));
      assert.equal(new Set(got.map((g) => g.e.event_id)).size, got.length, 'event ids unique');
      const ordered = [...got].sort((a, b) => a.e.binlog!.filenum - b.e.binlog!.filenum || a.e.binlog!.offset - b.e.binlog!.offset || a.e.event_id.localeCompare(b.e.event_id));
      assert.deepEqual(ordered.map((g) => [g.e.op, g.e.key]), LEGACY_WORKLOAD.flatMap((c) => c.events), 'each event once, in binlog order');
      const byKey = new Map<string, typeof got>();
      for (const g of got) byKey.set(g.e.key_b64 ?? '', [...(byKey.get(g.e.key_b64 ?? '') ?? []), g]);
      for (const [key, list] of byKey) {
        assert.equal(new Set(list.map((g) => g.r.partition)).size, 1, `key ${key} on one partition`);
        const pos = list.map((g) => g.e.binlog!.offset);
        assert.deepEqual(pos, [...pos].sort((a, b) => a - b), `key ${key} in binlog order within its partition`);
      }
      assert.ok(got.every((g) => g.e.binlog!.server_id === 5 && g.e.event_id.startsWith('0:5:')), 'server_id in binlog and event_id');
      assert.equal(master.legacy!.slaves.size, 0, 'the master dropped the slave when the heartbeat closed');
    } finally {
      if (worker.child.exitCode === null) await worker.kill('SIGKILL');
      await master.stop();
    }
  });
}

test('auto picks PB for a 4.0 master', { timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ dbs: 1 });
  const run = pikaRun(master);
  const worker = run.start();
  try {
    await waitStreaming(master, [0], worker);
    assert.match(worker.log, /replication protocol: pb \(Pika 4\.0\)/);
    assert.match(worker.log, /PB MetaSync answered on 127\.0\.0\.1:\d+ \(run_id present, db_instance_num present\)/);
  } finally {
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});

test('clear errors: sync.protocol=legacy against a PB-only master; nothing listening on the master\'s ports (auto)', { timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ dbs: 1 });
  const legacyOnPb = (await legacyRun(master, { 'sync.protocol': 'legacy' })).start();
  const closedPorts = (await legacyRun(master, { 'pika.port': 1, 'pika.repl.port': 2 })).start();
  try {
    await waitLog(legacyOnPb, /the master does not support the legacy TRYSYNC protocol .{0,4}ERR unknown command 'trysync'.{0,4}\): it is Pika 3\.1 or newer; use sync\.protocol=pb or auto/);
    await waitLog(closedPorts, /127\.0\.0\.1:2 refuses connections, falling back to legacy TRYSYNC/);
    await waitLog(closedPorts, /cannot connect to the master's RESP port \(legacy AUTH\/TRYSYNC\) 127\.0\.0\.1:1: ECONNREFUSED/);
  } finally {
    for (const w of [legacyOnPb, closedPorts]) if (w.child.exitCode === null) await w.kill('SIGKILL');
    await master.stop();
  }
});
