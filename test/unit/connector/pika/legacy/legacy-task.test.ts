// The Pika source task with sync.protocol=auto|legacy against the test master's legacy profiles: protocol choice in
// the log and status, records and their offsets, resume without duplicates, and the classic errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SourceRecord } from '../../../../../runtime/api/index.ts';
import { PikaSourceTask } from '../../../../../connector/pika/source/pika-source-task.ts';
import type { PikaEvent } from '../../../../../connector/pika/events/event.ts';
import { scaledSessionTimings } from '../../../../../connector/pika/replication/clock.ts';
import { startPikaMaster, type PikaMaster } from '../../../../pika-master/index.ts';
import { waitFor } from '../replication/session-helpers.ts';
import { fakeContext, pollUntil, type FakeContext } from '../source/task-helpers.ts';
import { freeReplicaPort } from './legacy-helpers.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCALE = 20;

async function config(m: PikaMaster, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp), 'pika.repl.port': String(m.ports.repl),
    'pika.replica.ip': '127.0.0.1', 'pika.replica.port': String(await freeReplicaPort()),
    'source.id': 'src1', cluster: 'c1', 'snapshot.mode': 'initial',
    // The rsync daemon for a pushed full sync starts before each TRYSYNC: keep its files out of the checkout.
    'snapshot.dir': join(mkdtempSync(join(tmpdir(), 'legacy-task-')), 'dumps'), ...extra,
  };
}

function newTask(): PikaSourceTask {
  return new PikaSourceTask({ timings: scaledSessionTimings(10), legacyTimings: { heartbeatIntervalMs: 50, reconnectMinMs: 20, senderWaitMs: 5000 }, probeTimeoutMs: 500 });
}

async function commitAll(task: PikaSourceTask, records: SourceRecord[]): Promise<void> {
  for (const r of records) task.commitRecord(r);
  task.commit();
}

for (const profile of ['legacy-3.0', 'legacy-2.x'] as const) {
  test(`auto picks legacy for a ${profile} master: records with server_id event ids and resume points; a restart from the committed offset repeats nothing`, async () => {
    const m = await startPikaMaster({ profile, timeScale: SCALE, serverId: 3 });
    try {
      m.exec(0, ['SET', 'a', '1']);
      m.exec(0, ['DEL', 'a', 'b']);
      const cfg = await config(m);
      const ctx: FakeContext = fakeContext();
      let task = newTask();
      await task.start(cfg, ctx);
      const records = await pollUntil(task, 3);
      assert.match(ctx.log.map((l) => l.msg).join('\n'), /replication protocol: legacy/);
      const events = records.map((r) => r.value as PikaEvent);
      assert.deepEqual(events.map((e) => [e.op, e.key]), [['set', 'a'], ['del', 'a'], ['del', 'b']]);
      assert.equal(events[0]!.binlog!.server_id, 3);
      assert.match(events[0]!.event_id, /^0:3:0:/, 'event_id <db>:<server_id>:<filenum>:<offset>:<logic_id>');
      assert.deepEqual(records[0]!.sourcePartition, { source_id: 'src1', db: 0 });
      assert.equal(records[0]!.sourceOffset.resume_offset, 0);
      assert.equal(records[1]!.sourceOffset.resume_skip, true);
      await commitAll(task, records);
      await task.stop();
      const status = ctx.status.sync_protocol as { protocol: string; profile: string; setting: string };
      assert.deepEqual([status.setting, status.protocol, status.profile], ['auto', 'legacy', profile]);

      m.exec(0, ['HSET', 'h', 'f', 'v']);
      const last = records.at(-1)!;
      const ctx2 = fakeContext([{ partition: last.sourcePartition, offset: last.sourceOffset }]);
      task = newTask();
      await task.start(cfg, ctx2);
      const more = await pollUntil(task, 1);
      assert.deepEqual(more.map((r) => (r.value as PikaEvent).op), ['hset']);
      assert.equal((await task.poll()).length, 0);
      await task.stop();
    } finally {
      await m.stop();
    }
  });
}

test('auto picks PB for a 4.0 master and says so in the log and status', async () => {
  const m = await startPikaMaster({ profile: '4.0', timeScale: 10 });
  try {
    const ctx = fakeContext();
    const task = newTask();
    await task.start({ ...(await config(m)), 'snapshot.mode': 'never' }, ctx);
    m.exec(0, ['SET', 'k', 'v']);
    await waitFor(() => m.repl.dbs[0]!.nodes.size > 0, 'PB handshake');
    assert.match(ctx.log.map((l) => l.msg).join('\n'), /replication protocol: pb \(Pika 4\.0\)/);
    await task.poll();
    await task.stop();
    assert.deepEqual((ctx.status.sync_protocol as { protocol: string }).protocol, 'pb');
  } finally {
    await m.stop();
  }
});

test('clear errors: legacy against a PB-only master; nothing listening on the master ports; no replica address', async () => {
  const m = await startPikaMaster({ profile: '4.0' });
  try {
    const task = newTask();
    await task.start(await config(m, { 'sync.protocol': 'legacy' }), fakeContext());
    await assert.rejects(async () => { for (;;) await task.poll(); }, /does not support the legacy TRYSYNC protocol .*Pika 3\.1 or newer; use sync\.protocol=pb or auto/);
    await task.stop();

    const closed = newTask();
    await closed.start({ ...(await config(m)), 'pika.port': '1', 'pika.repl.port': '2' }, fakeContext());
    await assert.rejects(async () => { for (;;) await closed.poll(); }, /cannot connect to the master's RESP port \(legacy AUTH\/TRYSYNC\) 127\.0\.0\.1:1: ECONNREFUSED/);
    await closed.stop();

    const cfg = await config(m, { 'sync.protocol': 'legacy' });
    delete cfg['pika.replica.ip'];
    delete cfg['pika.replica.port'];
    await assert.rejects(newTask().start(cfg, fakeContext()), /pika\.replica\.port: a legacy \(Pika 2\.x\/3\.0\) master needs pika\.replica\.ip and pika\.replica\.port/);
  } finally {
    await m.stop();
  }
});
