import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRunner, type TaskRunnerSettings } from '../../../../runtime/worker/task-runner.ts';
import { TopicManager } from '../../../../runtime/worker/topic-manager.ts';
import { StringConverter } from '../../../../runtime/converters/string.ts';
import { createRootLogger } from '../../../../runtime/util/logger.ts';
import { RetriableError } from '../../../../runtime/api/errors.ts';
import type { Converter } from '../../../../runtime/api/converter.ts';
import type { SourceRecord } from '../../../../runtime/api/record.ts';
import type { SourceTask } from '../../../../runtime/api/task.ts';
import type { ErrorHandlingSettings } from '../../../../runtime/worker/dead-letter.ts';
import { RecordingKafka } from '../../../helpers/recording-kafka.ts';

/** Values named "bad" cannot be converted; "down" fails as a registry outage would (retriable). */
const picky: Converter = {
  configure() {},
  fromConnectData(_t, data) {
    if (data === 'bad') throw new TypeError('no schema for "bad"');
    if (data === 'down') throw new RetriableError('registry unreachable');
    return Buffer.from(String(data));
  },
  toConnectData: (_t, b) => b?.toString() ?? null,
};

const rec = (seq: number, value: unknown, extra: Partial<SourceRecord> = {}): SourceRecord => ({ sourcePartition: { s: 0 }, sourceOffset: { seq }, topic: 'out', key: `k${seq}`, value, ...extra });

async function run(records: SourceRecord[], errors: ErrorHandlingSettings) {
  const kafka = new RecordingKafka();
  const stop = new AbortController();
  const committed: number[] = [];
  let batches = [records];
  const task: SourceTask = {
    async start() {},
    async poll() { const b = batches.shift(); if (!b) { stop.abort(); return []; } return b; },
    commitRecord(r) { committed.push(r.sourceOffset.seq as number); },
    async stop() {},
  };
  const settings: TaskRunnerSettings = {
    connectorName: 'c', taskId: 0, taskConfig: {}, transactionalId: 't', clientId: 'c', offsetsTopic: 'offsets',
    producerOverrides: {}, transactionBoundary: 'poll', transactionBoundaryIntervalMs: 1000,
    checkpointDir: mkdtempSync(join(tmpdir(), 'pc-dlq-')), errors,
  };
  const runner = new TaskRunner(settings, {
    client: kafka, createTask: () => task, keyConverter: new StringConverter(), valueConverter: picky,
    topics: new TopicManager(() => kafka.admin(), { enabled: true, groups: [] }), logger: createRootLogger('error'),
  });
  const outcome = await runner.run(stop.signal).then(() => undefined, (e: Error) => e);
  return { kafka, committed, outcome, metrics: runner.metrics };
}

const tolerant = (over: Partial<ErrorHandlingSettings> = {}): ErrorHandlingSettings => ({ tolerance: 'all', deadLetterTopic: 'dlq', contextHeaders: true, logErrors: false, maxRecordBytes: 1000, ...over });

test('an unconvertible record goes to the dead-letter topic in the same transaction as the offset advance', async () => {
  const { kafka, committed, outcome } = await run([rec(0, 'ok'), rec(1, 'bad'), rec(2, 'ok')], tolerant());
  assert.equal(outcome, undefined);
  assert.deepEqual(kafka.calls.filter((c) => c.startsWith('send') || c === 'commit'), ['send:out,dlq,offsets', 'commit']);
  const dlq = kafka.committed.filter((r) => r.topic === 'dlq');
  assert.equal(dlq.length, 1);
  assert.equal(dlq[0]!.value!.toString(), 'bad', 'the original value (strings as UTF-8, other values as JSON)');
  assert.deepEqual(kafka.committed.filter((r) => r.topic === 'out').map((r) => r.value!.toString()), ['ok', 'ok']);
  assert.deepEqual(committed, [0, 1, 2], 'the offset moves past the dead-lettered record');
  assert.deepEqual(JSON.parse(kafka.committed.find((r) => r.topic === 'offsets')!.value!.toString()), { seq: 2 });
});

test('dead-letter records carry headers naming the reason, stage and origin', async () => {
  const { DeadLetterRouter } = await import('../../../../runtime/worker/dead-letter.ts');
  const { TaskMetrics } = await import('../../../../runtime/worker/task-metrics.ts');
  const router = new DeadLetterRouter(tolerant(), { connector: 'c', task: 3 }, createRootLogger('error'), new TaskMetrics());
  const out = router.route(rec(7, 'bad'), 'convert', 'no schema', new TypeError('no schema for "bad"'))!;
  assert.equal(out.topic, 'dlq');
  assert.equal(out.headers!['__connect.errors.reason'], 'no schema');
  assert.equal(out.headers!['__connect.errors.stage'], 'CONVERT');
  assert.equal(out.headers!['__connect.errors.topic'], 'out');
  assert.equal(out.headers!['__connect.errors.task.id'], '3');
  assert.equal(out.headers!['__connect.errors.exception.message'], 'no schema for "bad"');
  assert.equal(out.headers!['__connect.errors.source.offset'], '{"seq":7}');
});

test('errors.tolerance=none: an unconvertible record fails the task and nothing is committed', async () => {
  const { kafka, committed, outcome } = await run([rec(0, 'ok'), rec(1, 'bad')], tolerant({ tolerance: 'none' }));
  assert.match(String(outcome), /Could not convert a record for topic out .*errors\.tolerance=none/);
  assert.equal(kafka.committed.length, 0);
  assert.deepEqual(committed, []);
});

test('errors.tolerance=all without a dead-letter topic skips the record, and counts it', async () => {
  const { kafka, committed, metrics } = await run([rec(0, 'bad'), rec(1, 'ok')], tolerant({ deadLetterTopic: undefined }));
  assert.deepEqual(kafka.committed.filter((r) => r.topic === 'out').map((r) => r.value!.toString()), ['ok']);
  assert.deepEqual(committed, [0, 1]);
  assert.equal(metrics.recordsSkipped, 1);
});

test('a record over max.request.size goes to the dead-letter topic', async () => {
  const { kafka, metrics } = await run([rec(0, 'x'.repeat(2000)), rec(1, 'ok')], tolerant());
  const dlq = kafka.committed.filter((r) => r.topic === 'dlq');
  assert.equal(dlq.length, 1);
  assert.equal(metrics.deadLetterRecords, 1);
});

test('a record its connector marks for the dead-letter topic goes there; without one configured the task fails clearly', async () => {
  const marked = rec(0, 'huge', { deadLetterReason: 'string of 600 MB over snapshot.max.bytes.per.event' });
  const ok = await run([marked], tolerant({ tolerance: 'none' }));
  assert.equal(ok.kafka.committed.filter((r) => r.topic === 'dlq').length, 1);
  const missing = await run([marked], tolerant({ deadLetterTopic: undefined }));
  assert.match(String(missing.outcome), /errors\.deadletterqueue\.topic\.name is not set/);
  assert.equal(missing.kafka.committed.length, 0);
});

test('a retriable conversion failure (registry down) is never dead-lettered: the task fails and retries', async () => {
  const { kafka, outcome } = await run([rec(0, 'down')], tolerant());
  assert.match(String(outcome), /registry unreachable/);
  assert.equal(kafka.committed.length, 0);
});

test('records a connector filtered out write nothing but advance the offset and are confirmed to the task', async () => {
  const { kafka, committed, metrics } = await run([rec(0, 'ok'), rec(1, 'x', { filteredBy: 'filter.keys.exclude' }), rec(2, 'y', { filteredBy: 'filter.exclude' })], tolerant());
  assert.deepEqual(kafka.committed.filter((r) => r.topic === 'out').map((r) => r.value!.toString()), ['ok']);
  assert.deepEqual(JSON.parse(kafka.committed.find((r) => r.topic === 'offsets')!.value!.toString()), { seq: 2 });
  assert.deepEqual(committed, [0, 1, 2]);
  assert.equal(metrics.recordsFiltered, 2);
});
