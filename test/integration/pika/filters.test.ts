// filter.* rules end to end on real Kafka: commands written to the test master's RESP port, the Pika connector in a
// worker child process with key (exact, prefix, regex), type, command and DB rules plus a global exclude. Kafka
// (read_committed) holds exactly the allowed events, once each; the dropped ones still move the committed source
// offset (offsets topic) and the master's acked position to the binlog end; /metrics counts them by reason and
// shows the lag metrics moving with the master's writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startPikaMaster, type PikaMaster } from '../../pika-master/index.ts';
import { readAllCommitted } from '../../helpers/kafka.ts';
import { restUrl, type WorkerProcess } from '../../helpers/worker-process.ts';
import { parsePrometheusText, sampleValue, type Family } from '../../unit/runtime/metrics/prom-text.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { RespClient } from './pika-workload.ts';
import { pikaRun, sleep, waitCaughtUp, waitStreaming } from './pika-harness.ts';

const FILTERS = {
  'filter.exclude': 'user:tmp:*',
  'filter.keys.include': 'user:*,order:42,re:^session:[0-9]+$',
  'filter.keys.exclude': 'user:banned',
  'filter.types.exclude': 'zset',
  'filter.commands.exclude': 'hdel',
  'filter.dbs.exclude': 'db1',
};

/** [db, argv, events that pass as [op, key], events dropped as the config key that drops them]. */
const COMMANDS: Array<[number, string[], Array<[string, string]>, string[]]> = [
  [0, ['SET', 'user:1', 'v'], [['set', 'user:1']], []],
  [0, ['SET', 'order:42', 'v'], [['set', 'order:42']], []],
  [0, ['SET', 'order:43', 'v'], [], ['filter.keys.include']], // exact pattern, other key
  [0, ['SET', 'session:7', 'v'], [['set', 'session:7']], []],
  [0, ['SET', 'session:x7', 'v'], [], ['filter.keys.include']], // regex does not match
  [0, ['SET', 'user:banned', 'v'], [], ['filter.keys.exclude']],
  [0, ['SET', 'user:tmp:1', 'v'], [], ['filter.exclude']],
  [0, ['HSET', 'user:h', 'f', 'v'], [['hset', 'user:h']], []],
  [0, ['HDEL', 'user:h', 'f'], [], ['filter.commands.exclude']],
  [0, ['ZADD', 'user:z', '1', 'a'], [], ['filter.types.exclude']],
  [0, ['SADD', 'user:s', 'a'], [['sadd', 'user:s']], []],
  [0, ['MSET', 'user:2', 'a', 'other:1', 'b'], [['set', 'user:2']], ['filter.keys.include']], // one event per key
  [1, ['SET', 'user:db1', 'v'], [], ['filter.dbs.exclude']],
  [1, ['HSET', 'user:db1h', 'f', 'v'], [], ['filter.dbs.exclude']],
  // The last item of db0 is dropped: the committed offset and the ack reach the binlog end only past it.
  [0, ['SET', 'other:9', 'v'], [], ['filter.keys.include']],
];

async function waitAcked(master: PikaMaster, dbs: number[], worker: WorkerProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const acked = dbs.map((d) => {
      const end = master.binlogPosition(d);
      return [...master.repl.dbs[d]!.nodes.values()].some((n) => n.ackedOffset.filenum === end.filenum && n.ackedOffset.offset === end.offset);
    });
    if (acked.every(Boolean)) return;
    if (worker.child.exitCode !== null || Date.now() > deadline) throw new Error(`the master's acked position did not reach its binlog end (${acked}); log tail:\n${worker.log.slice(-3000)}`);
    await sleep(100);
  }
}

/** The newest committed offset per DB in the offsets topic (read_committed), as Kafka Connect's layout keys it. */
async function offsetsTopicPositions(topic: string, connector: string): Promise<Map<number, { filenum: number; offset: number }>> {
  const out = new Map<number, { filenum: number; offset: number }>();
  for (const r of await readAllCommitted(topic)) {
    const [name, partition] = JSON.parse(r.key!.toString()) as [string, { db: string | number }];
    if (name !== connector || r.value === null) continue;
    const offset = JSON.parse(r.value.toString()) as { filenum: number; offset: number };
    out.set(Number(String(partition.db).replace(/^db/, '')), { filenum: Number(offset.filenum), offset: Number(offset.offset) });
  }
  return out;
}

test('filters on real Kafka: exactly the allowed events once each; dropped ones advance the committed offset and the master\'s ack; /metrics counts them and the lag moves', { timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ dbs: 2 });
  const run = pikaRun(master, FILTERS);
  const offsetsTopic = /^offset\.storage\.topic=(.*)$/m.exec(readFileSync(run.workerFile, 'utf8'))![1]!;
  const worker = run.start();
  const client = await RespClient.open(master.ports.resp);
  try {
    await waitStreaming(master, [0, 1], worker);
    const base = await restUrl(worker);
    const scrape = async (): Promise<Map<string, Family>> => parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    const db0 = { connector: run.connector, task: '0', db: 'db0' };

    // Lag metrics move with the master: a first write is received and committed, the gauges follow it.
    await client.command(['SET', 'user:0', 'v']);
    const first = master.binlogPosition(0);
    await waitCaughtUp(master, run, [0], worker);
    await waitMetric(scrape, 'pika_source_binlog_committed_offset', db0, first.offset, worker);

    let db = 0;
    for (const [d, argv] of COMMANDS) {
      if (d !== db) await client.command(['SELECT', String((db = d))]);
      await client.command(argv);
    }
    const ends = [master.binlogPosition(0), master.binlogPosition(1)];
    assert.ok(ends[0]!.offset > first.offset);
    await waitCaughtUp(master, run, [0, 1], worker);
    await waitAcked(master, [0, 1], worker);

    const metrics = await waitMetric(scrape, 'pika_source_binlog_committed_offset', db0, ends[0]!.offset, worker);
    assert.equal(sampleValue(metrics, 'pika_source_binlog_received_offset', db0), ends[0]!.offset, 'received position moved to the master\'s end');
    assert.equal(sampleValue(metrics, 'pika_source_binlog_bytes_behind', db0), 0);
    const dropped = new Map<string, number>();
    for (const [, , , reasons] of COMMANDS) for (const r of reasons) dropped.set(r, (dropped.get(r) ?? 0) + 1);
    for (const [reason, count] of dropped) {
      assert.equal(sampleValue(metrics, 'pika_source_filtered_records_total', { connector: run.connector, task: '0', reason }), count, `filtered by ${reason}`);
    }

    const committed = await offsetsTopicPositions(offsetsTopic, run.connector);
    for (const d of [0, 1]) {
      assert.deepEqual(committed.get(d), { filenum: ends[d]!.filenum, offset: ends[d]!.offset }, `db${d}: the offsets topic holds the binlog end, past the dropped items`);
    }

    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
    const got = (await readAllCommitted(`pika.${run.cluster}.binlog`)).map((r) => JSON.parse(r.value!.toString()) as PikaEvent);
    const expected = [['set', 'user:0'], ...COMMANDS.flatMap(([, , pass]) => pass)].map(([op, key]) => `db0 ${op} ${key}`);
    assert.deepEqual(got.map((e) => `db${e.db} ${e.op} ${e.key}`).sort(), expected.sort(), 'exactly the allowed events, once each');
  } finally {
    client.close();
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});

async function waitMetric(scrape: () => Promise<Map<string, Family>>, name: string, labels: Record<string, string>, value: number, worker: WorkerProcess): Promise<Map<string, Family>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const families = await scrape();
    const now = sampleValue(families, name, labels);
    if (now === value) return families;
    if (worker.child.exitCode !== null || Date.now() > deadline) throw new Error(`${name}${JSON.stringify(labels)} is ${now}, expected ${value}`);
    await sleep(200);
  }
}
