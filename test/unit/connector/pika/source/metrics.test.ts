import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SourceRecord, TaskMetricsFacade } from '../../../../../runtime/api/index.ts';
import { PikaSourceTask } from '../../../../../connector/pika/source/pika-source-task.ts';
import { PikaSourceMetrics, downloadEtaSeconds, positionsBehind } from '../../../../../connector/pika/source/metrics.ts';
import { scaledSessionTimings } from '../../../../../connector/pika/replication/clock.ts';
import { startPikaMaster, type PikaMaster } from '../../../../pika-master/index.ts';
import { SCALE, waitFor } from '../replication/session-helpers.ts';
import { fakeContext } from './task-helpers.ts';
import { writeData } from './event-model.ts';
import type { PikaEvent } from '../../../../../connector/pika/events/event.ts';
import { rocksDbMissing } from '../../../../fixtures/rocksdb-gen/build.ts';
import { rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkerProps } from '../../../../../runtime/config/index.ts';
import { bundledPlugins } from '../../../../../runtime/bundled-plugins.ts';
import { startRestApi, workerMetrics } from '../../../../../runtime/rest/index.ts';
import { createRootLogger } from '../../../../../runtime/util/logger.ts';
import { Worker } from '../../../../../runtime/worker/worker.ts';
import { RecordingKafka } from '../../../../helpers/recording-kafka.ts';
import { parsePrometheusText, sampleValue } from '../../../runtime/metrics/prom-text.ts';

/** A metrics facade that keeps the last value of each gauge series and the sum of each counter series. */
function recordingFacade(): TaskMetricsFacade & { values: Map<string, number>; value(name: string, labels?: Record<string, string>): number | undefined } {
  const values = new Map<string, number>();
  const key = (name: string, labels: Record<string, string> = {}): string =>
    `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
  return {
    values,
    value: (name, labels) => values.get(key(name, labels)),
    gauge: (name) => ({ set: (v, labels) => { values.set(key(name, labels), v); } }),
    counter: (name) => ({ inc: (by = 1, labels) => { values.set(key(name, labels), (values.get(key(name, labels)) ?? 0) + by); } }),
  };
}

function config(m: PikaMaster, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp), 'pika.repl.port': String(m.ports.repl),
    'source.id': 'src1', cluster: 'c1', 'snapshot.mode': 'never', ...extra,
  };
}

async function pollWhile(task: PikaSourceTask, done: () => boolean, what: string, out: SourceRecord[] = []): Promise<SourceRecord[]> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    out.push(...await task.poll());
  }
  return out;
}

test('lag metrics: received vs committed position, bytes behind, items awaiting commit and ack age move with the master and with commits', async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  const facade = recordingFacade();
  const ctx = Object.assign(fakeContext(), { metrics: facade });
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  try {
    await task.start(config(m, { 'filter.keys.exclude': 'session:*' }), ctx);
    await waitFor(() => m.repl.dbs[0]!.nodes.size > 0, 'handshake');
    const begin = m.binlogPosition(0);
    m.exec(0, ['SET', 'a', '1']);
    m.exec(0, ['SET', 'session:x', '2']);
    const end = m.binlogPosition(0);
    const db0 = { db: 'db0' };
    const records = await pollWhile(task, () => facade.value('pika_source_binlog_received_offset', db0) === end.offset
      && facade.value('pika_source_items_awaiting_commit') === 2, 'the received position');
    assert.equal(facade.value('pika_source_binlog_received_filenum', db0), end.filenum);
    assert.equal(facade.value('pika_source_binlog_bytes_behind', db0), end.offset - begin.offset, 'nothing committed: everything received since the start is behind');
    assert.equal(facade.value('pika_source_filtered_records_total', { reason: 'filter.keys.exclude' }), 1);
    assert.ok((facade.value('pika_source_ms_since_last_ack', db0) ?? -1) >= 0, 'the binlog is pinned since the sync began');

    for (const r of records) await task.commitRecord(r);
    await task.commit();
    await pollWhile(task, () => facade.value('pika_source_binlog_bytes_behind', db0) === 0 && facade.value('pika_source_items_awaiting_commit') === 0, 'the commit to show');
    assert.equal(facade.value('pika_source_binlog_committed_offset', db0), end.offset);
    assert.equal(facade.value('pika_source_binlog_files_behind', db0), 0);
    const behind = facade.value('pika_source_ms_behind_master', db0)!;
    assert.ok(behind >= 0 && behind < 60_000, `ms behind the master from the item's exec time: ${behind}`);

    m.exec(0, ['SET', 'b', '3']);
    const next = m.binlogPosition(0);
    await pollWhile(task, () => facade.value('pika_source_binlog_received_offset', db0) === next.offset, 'the next item');
    assert.equal(facade.value('pika_source_binlog_bytes_behind', db0), next.offset - end.offset, 'one received, uncommitted item');
  } finally {
    await task.stop();
    await m.stop();
  }
});

test('a gap is counted by DB and kind', async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  const facade = recordingFacade();
  const ctx = Object.assign(fakeContext([{ partition: { source_id: 'src1', db: 0 }, offset: { filenum: 0, offset: 0, logic_id: 0, term: 0, replication_id: 'an-older-id' } }], 'metrics-gap'), { metrics: facade });
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  try {
    await task.start(config(m, { 'snapshot.on.gap': 'fail' }), ctx);
    await assert.rejects(pollWhile(task, () => false, 'the gap'), /replication id/);
    assert.equal(facade.value('pika_source_gaps_total', { db: 'db0', kind: 'replication-id-changed' }), 1);
    // The runtime restarts the failed task: the same gap again is not a new one.
    const again = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
    await again.start(config(m, { 'snapshot.on.gap': 'fail' }), ctx);
    try {
      await assert.rejects(pollWhile(again, () => false, 'the gap'), /replication id/);
    } finally {
      await again.stop();
    }
    assert.equal(facade.value('pika_source_gaps_total', { db: 'db0', kind: 'replication-id-changed' }), 1);
  } finally {
    await task.stop();
    await m.stop();
  }
});

test('snapshot progress: percent of files, ETA from the file rate, reconnects as a counter of session reconnects', () => {
  const facade = recordingFacade();
  let now = 1_000_000;
  const metrics = new PikaSourceMetrics(facade, () => now);
  const snap = (done: number) => ({ db1: { files_done: done, files_total: 4, bytes_downloaded: done * 100, events_emitted: 7, state: 'downloading' } });
  metrics.sample({ msSinceLastAck: { db1: 250 }, itemsAwaitingCommit: 0, reconnects: 2, snapshots: snap(0) });
  const db1 = { db: 'db1' };
  assert.equal(facade.value('pika_source_snapshot_download_percent', db1), 0);
  assert.equal(facade.value('pika_source_snapshot_download_eta_seconds', db1), -1, 'no rate yet');
  now += 10_000;
  metrics.sample({ msSinceLastAck: { db1: 500 }, itemsAwaitingCommit: 0, reconnects: 3, snapshots: snap(1) });
  assert.equal(facade.value('pika_source_snapshot_download_percent', db1), 25);
  assert.equal(facade.value('pika_source_snapshot_download_eta_seconds', db1), 30, 'one file per 10 s, three left');
  assert.equal(facade.value('pika_source_snapshot_bytes_downloaded', db1), 100);
  assert.equal(facade.value('pika_source_snapshot_events_emitted', db1), 7);
  assert.equal(facade.value('pika_source_reconnects_total'), 3);
  assert.equal(facade.value('pika_source_ms_since_last_ack', db1), 500);
  metrics.sample({ msSinceLastAck: {}, itemsAwaitingCommit: 0, reconnects: 3, snapshots: snap(4) });
  assert.equal(facade.value('pika_source_snapshot_download_eta_seconds', db1), 0);
  assert.equal(facade.value('pika_source_reconnects_total'), 3, 'not counted twice');
});

test('bytes behind across binlog files is the newest file\'s bytes (a lower bound); files behind counts files', () => {
  assert.deepEqual(positionsBehind({ filenum: 3, offset: 500 }, { filenum: 3, offset: 200 }), { files: 0, bytes: 300 });
  assert.deepEqual(positionsBehind({ filenum: 5, offset: 40 }, { filenum: 3, offset: 200 }), { files: 2, bytes: 40 });
  assert.deepEqual(positionsBehind({ filenum: 3, offset: 200 }, { filenum: 3, offset: 200 }), { files: 0, bytes: 0 });
  assert.equal(positionsBehind(undefined, undefined), undefined);
  assert.equal(downloadEtaSeconds(0, 0, { startedAt: 0, filesDoneAtStart: 0 }, 5), -1);
});

test('a worker running the Pika connector shows its CDC metrics at /metrics, and the lag closes once the master\'s writes are in Kafka', { timeout: 120_000 }, async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  const kafka = new RecordingKafka();
  const workerConfig = parseWorkerProps({
    'bootstrap.servers': '127.0.0.1:1', listeners: 'http://127.0.0.1:0', 'offset.storage.topic': 'offsets',
    'offset.checkpoint.dir': mkdtempSync(join(tmpdir(), 'pc-pika-metrics-')),
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter', 'value.converter.schemas.enable': 'false',
  });
  const logger = createRootLogger('error');
  let worker: Worker | undefined;
  const registry = workerMetrics(() => worker);
  worker = new Worker(workerConfig, bundledPlugins(), logger, { client: kafka, connectorMetrics: (c, t) => registry.facade(c, t) });
  await worker.start([]);
  const server = await startRestApi(worker, logger, registry);
  const base = server.addresses[0]!;
  try {
    const put = await fetch(`${base}/connectors/pk/config`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 'connector.class': 'pika', 'tasks.max': '1', ...config(m) }),
    });
    assert.equal(put.status, 201, await put.text());
    await waitFor(() => m.repl.dbs[0]!.nodes.size > 0, 'the connector\'s handshake');
    m.exec(0, ['SET', 'k1', 'v1']);
    m.exec(0, ['SET', 'k2', 'v2']);
    const end = m.binlogPosition(0);
    const labels = { connector: 'pk', task: '0', db: 'db0' };
    const deadline = Date.now() + 60_000;
    for (;;) {
      const families = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
      const committed = sampleValue(families, 'pika_source_binlog_committed_offset', labels);
      const behind = sampleValue(families, 'pika_source_binlog_bytes_behind', labels);
      if (committed === end.offset && behind === 0) {
        assert.equal(sampleValue(families, 'pika_source_binlog_received_offset', labels), end.offset);
        assert.ok(sampleValue(families, 'pika_source_ms_since_last_ack', labels)! >= 0);
        assert.equal(sampleValue(families, 'pika_source_items_awaiting_commit', { connector: 'pk', task: '0' }), 0);
        break;
      }
      assert.ok(Date.now() < deadline, `timed out: committed ${committed}, behind ${behind}, master at ${end.offset}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(kafka.committed.filter((r) => r.topic === 'pika.c1.binlog').length, 2);
  } finally {
    await server.close();
    await worker.stop();
    await m.stop();
  }
});

test('a full sync shows as full_syncs_total, snapshot files/bytes/percent/ETA and the snapshot events emitted', { skip: rocksDbMissing() ?? false, timeout: 120_000 }, async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  const dir = mkdtempSync(join(tmpdir(), 'pika-metrics-fullsync-'));
  const facade = recordingFacade();
  const ctx = Object.assign(fakeContext([], 'metrics-fullsync'), { metrics: facade });
  const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
  try {
    writeData(m, 0, 'a');
    await task.start(config(m, { 'snapshot.mode': 'initial', 'pika.rsync.port': String(m.ports.rsync), 'snapshot.dir': dir }), ctx);
    const db0 = { db: 'db0' };
    const all: SourceRecord[] = [];
    const snapshotEvents = (): number => all.filter((r) => (r.value as PikaEvent).event_type !== 'binlog').length;
    await pollWhile(task, () => facade.value('pika_source_snapshot_download_percent', db0) === 100
      && snapshotEvents() > 0 && facade.value('pika_source_snapshot_events_emitted', db0) === snapshotEvents()
      && all.some((r) => (r.value as PikaEvent).op === 'snapshot-end'), 'the snapshot metrics', all);
    assert.equal(facade.value('pika_source_full_syncs_total', db0), 1);
    const total = facade.value('pika_source_snapshot_files_total', db0)!;
    assert.ok(total > 0);
    assert.equal(facade.value('pika_source_snapshot_files_done', db0), total);
    assert.ok(facade.value('pika_source_snapshot_bytes_downloaded', db0)! > 0);
    assert.equal(facade.value('pika_source_snapshot_download_eta_seconds', db0), 0);
  } finally {
    await task.stop();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
