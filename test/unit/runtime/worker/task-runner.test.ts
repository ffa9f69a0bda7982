import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskRunner, type TaskRunnerSettings } from '../../../../runtime/worker/task-runner.ts';
import { TopicManager } from '../../../../runtime/worker/topic-manager.ts';
import { JsonConverter } from '../../../../runtime/converters/json.ts';
import { StringConverter } from '../../../../runtime/converters/string.ts';
import { createRootLogger } from '../../../../runtime/util/logger.ts';
import type { SourceRecord } from '../../../../runtime/api/record.ts';
import type { SourceTask, SourceTaskContext } from '../../../../runtime/api/task.ts';
import { RecordingKafka } from '../../../helpers/recording-kafka.ts';
import { tmpdir } from 'node:os';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const logger = createRootLogger('error');

function settings(overrides: Partial<TaskRunnerSettings> = {}): TaskRunnerSettings {
  return {
    connectorName: 'c1', taskId: 0, taskConfig: {}, transactionalId: 'pc-c1-0', clientId: 'pc', offsetsTopic: 'offsets',
    producerOverrides: {}, transactionBoundary: 'poll', transactionBoundaryIntervalMs: 1000,
    checkpointDir: mkdtempSync(join(tmpdir(), 'pc-ckpt-')), ...overrides,
  };
}

/** A task that emits scripted batches, then stops the runner; records which offsets it was told are committed. */
class ScriptedTask implements SourceTask {
  startOffset: unknown;
  committedSeqs: number[] = [];
  commits = 0;
  constructor(private batches: SourceRecord[][], private readonly stop$: AbortController, private failAfterPolls = Infinity) {}
  async start(_c: Record<string, string>, ctx: SourceTaskContext) { this.startOffset = ctx.offsets.offset({ s: 0 }); }
  async poll() {
    if (this.failAfterPolls-- <= 0) throw new Error('upstream broke');
    const next = this.batches.shift();
    if (!next) { this.stop$.abort(); return []; }
    return next;
  }
  commitRecord(r: SourceRecord) { this.committedSeqs.push(r.sourceOffset.seq as number); }
  commit() { this.commits++; }
  async stop() {}
}

const rec = (seq: number): SourceRecord => ({ sourcePartition: { s: 0 }, sourceOffset: { seq }, topic: 'out', key: `k${seq}`, value: { seq } });

function runner(kafka: RecordingKafka, task: SourceTask, s = settings()) {
  const values = new JsonConverter();
  values.configure({ 'schemas.enable': 'false' });
  return new TaskRunner(s, {
    client: kafka, createTask: () => task, keyConverter: new StringConverter(), valueConverter: values,
    topics: new TopicManager(() => kafka.admin(), { enabled: true, groups: [] }), logger,
  });
}

test('records and their offsets go out in one transaction, committed before the task hears of it', async () => {
  const kafka = new RecordingKafka();
  const stop = new AbortController();
  const task = new ScriptedTask([[rec(0), rec(1)], [rec(2)]], stop);
  await runner(kafka, task).run(stop.signal);
  assert.deepEqual(kafka.calls, [
    'connect', 'read:offsets', 'create:out',
    'begin', 'send:out,offsets', 'commit',
    'begin', 'send:out,offsets', 'commit',
    'disconnect',
  ]);
  assert.deepEqual(task.committedSeqs, [0, 1, 2]);
  assert.equal(task.commits, 2);
  const offsets = kafka.committed.filter((r) => r.topic === 'offsets');
  assert.equal(offsets.length, 2, 'one offset record per partition per transaction');
  assert.equal(offsets[1]!.key!.toString(), '["c1",{"s":0}]');
  assert.deepEqual(JSON.parse(offsets[1]!.value!.toString()), { seq: 2 });
});

test('a restarted task starts from the committed offset', async () => {
  const kafka = new RecordingKafka();
  const stop1 = new AbortController();
  await runner(kafka, new ScriptedTask([[rec(0), rec(1)]], stop1)).run(stop1.signal);
  const stop2 = new AbortController();
  const second = new ScriptedTask([], stop2);
  await runner(kafka, second).run(stop2.signal);
  assert.deepEqual(second.startOffset, { seq: 1 });
});

test('a failed commit aborts: nothing reaches Kafka, the task is never told, the error surfaces', async () => {
  const kafka = new RecordingKafka();
  kafka.failOn = (call) => (call === 'commit' ? Object.assign(new Error('fenced'), { type: 'PRODUCER_FENCED' }) : undefined);
  const stop = new AbortController();
  const task = new ScriptedTask([[rec(0)]], stop);
  await assert.rejects(runner(kafka, task).run(stop.signal), /fenced/);
  assert.deepEqual(task.committedSeqs, []);
  assert.equal(kafka.committed.length, 0);
  assert.ok(kafka.calls.includes('abort'));
  assert.equal(kafka.calls.at(-1), 'disconnect');
});

test('a poll error after sends aborts the open transaction (interval boundary)', async () => {
  const kafka = new RecordingKafka();
  const stop = new AbortController();
  const task = new ScriptedTask([[rec(0)], [rec(1)]], stop, 2);
  const r = runner(kafka, task, settings({ transactionBoundary: 'interval', transactionBoundaryIntervalMs: 3_600_000 }));
  await assert.rejects(r.run(stop.signal), /upstream broke/);
  assert.deepEqual(kafka.calls.filter((c) => c === 'begin' || c === 'commit' || c === 'abort'), ['begin', 'abort']);
  assert.equal(kafka.committed.length, 0);
});

test('a graceful stop commits the open transaction (interval boundary) and writes the checkpoint file', async () => {
  const kafka = new RecordingKafka();
  const stop = new AbortController();
  const s = settings({ transactionBoundary: 'interval', transactionBoundaryIntervalMs: 3_600_000 });
  const task = new ScriptedTask([[rec(0)], [rec(1)]], stop);
  await runner(kafka, task, s).run(stop.signal);
  assert.deepEqual(kafka.calls.filter((c) => c === 'begin' || c === 'commit'), ['begin', 'commit']);
  assert.deepEqual(task.committedSeqs, [0, 1]);
  const checkpoint = JSON.parse(readFileSync(join(s.checkpointDir, 'c1-0.json'), 'utf8'));
  assert.deepEqual(checkpoint.offsets, [{ partition: { s: 0 }, offset: { seq: 1 } }]);
  assert.equal(checkpoint.transactional_id, 'pc-c1-0');
});
