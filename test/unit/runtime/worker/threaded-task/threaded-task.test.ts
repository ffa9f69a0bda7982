import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { TaskRunner, type TaskRunnerSettings } from '../../../../../runtime/worker/task-runner.ts';
import { TopicManager } from '../../../../../runtime/worker/topic-manager.ts';
import { TaskMetrics } from '../../../../../runtime/worker/task-metrics.ts';
import { PluginRegistry } from '../../../../../runtime/plugins.ts';
import { bundledPlugins } from '../../../../../runtime/bundled-plugins.ts';
import { createRootLogger } from '../../../../../runtime/util/logger.ts';
import { ConnectError } from '../../../../../runtime/api/errors.ts';
import type { SourceRecord } from '../../../../../runtime/api/record.ts';
import type { SourceTask, SourceTaskContext, TaskMetricsFacade } from '../../../../../runtime/api/task.ts';
import type { ErrorHandlingSettings } from '../../../../../runtime/worker/dead-letter.ts';
import { ThreadedTask } from '../../../../../runtime/worker/threaded-task/threaded-task.ts';
import { TaskThreadLoop } from '../../../../../runtime/worker/threaded-task/thread-loop.ts';
import { PreparedBytesConverter } from '../../../../../runtime/worker/threaded-task/prepared-converter.ts';
import { asMainMessage, type ThreadSetup, type ThreadedTaskSpec } from '../../../../../runtime/worker/threaded-task/protocol.ts';
import { RecordingKafka } from '../../../../helpers/recording-kafka.ts';

const logger = createRootLogger('error');
const FAIL: ErrorHandlingSettings = { tolerance: 'none', contextHeaders: false, logErrors: false, maxRecordBytes: 1_000_000 };

function settings(): TaskRunnerSettings {
  return {
    connectorName: 'c1', taskId: 0, taskConfig: {}, transactionalId: 'pc-c1-0', clientId: 'pc', offsetsTopic: 'offsets',
    producerOverrides: {}, transactionBoundary: 'poll', transactionBoundaryIntervalMs: 1000,
    checkpointDir: mkdtempSync(join(tmpdir(), 'pc-ckpt-')),
  };
}

/** The task thread's loop run in this thread behind a Worker-like object: messages are cloned (buffers transferred). */
function inProcessThread(registry: PluginRegistry) {
  return (setup: ThreadSetup): Worker => {
    const worker = new EventEmitter() as EventEmitter & { postMessage(m: unknown): void; terminate(): Promise<number> };
    const loop = new TaskThreadLoop(structuredClone(setup), {
      post: (message, transfer) => {
        const copy = structuredClone(message, { transfer: transfer ?? [] });
        setImmediate(() => worker.emit('message', copy));
      },
    }, registry);
    worker.postMessage = (m) => { const copy = structuredClone(m); setImmediate(() => loop.handle(asMainMessage(copy))); };
    worker.terminate = async () => 0;
    void loop.run().then(() => setImmediate(() => worker.emit('exit', 0)));
    return worker as unknown as Worker;
  };
}

function registryWith(task: () => SourceTask): PluginRegistry {
  return new PluginRegistry().addConnector({
    names: ['scripted'],
    create: () => ({ validate: () => [], start: async () => {}, taskConfigs: () => [{}], createTask: task, stop: async () => {}, configKeys: () => [], version: () => '1' }),
  });
}

function spec(errors = FAIL): ThreadedTaskSpec {
  return {
    connectorClass: 'scripted', connectorProps: {}, errors, maxBatchesInFlight: 2,
    keyConverter: { name: 'string', props: {} }, valueConverter: { name: 'json', props: { 'schemas.enable': 'false' } },
  };
}

function threadedRunner(kafka: RecordingKafka, registry: PluginRegistry, s: ThreadedTaskSpec, extra: { metrics?: TaskMetrics; facade?: TaskMetricsFacade; startThread?: (setup: ThreadSetup) => Worker } = {}) {
  const metrics = extra.metrics ?? new TaskMetrics();
  return new TaskRunner(settings(), {
    client: kafka,
    createTask: () => new ThreadedTask(s, { metrics, startThread: extra.startThread ?? inProcessThread(registry) }),
    keyConverter: new PreparedBytesConverter(), valueConverter: new PreparedBytesConverter(),
    topics: new TopicManager(() => kafka.admin(), { enabled: true, groups: [] }), logger, metrics,
    ...(extra.facade ? { connectorMetrics: extra.facade } : {}),
  });
}

class ScriptedTask implements SourceTask {
  startOffset: unknown;
  committedSeqs: number[] = [];
  commits = 0;
  stopped = false;
  constructor(private batches: SourceRecord[][], private readonly stop$: AbortController, private readonly onStart?: (ctx: SourceTaskContext) => void) {
    this.total = batches.reduce((n, b) => n + (Array.isArray(b) ? b.length : 0), 0);
  }
  async start(_c: Record<string, string>, ctx: SourceTaskContext) {
    this.startOffset = ctx.offsets.offset({ s: 0 });
    this.onStart?.(ctx);
  }
  private readonly total: number;
  async poll() {
    const next = this.batches.shift();
    if (next instanceof Error) throw next;
    if (!next) {
      if (this.total === 0) this.stop$.abort();
      await new Promise((r) => setTimeout(r, 5));
      return [];
    }
    return next;
  }
  commitRecord(r: SourceRecord) { this.committedSeqs.push(r.sourceOffset.seq as number); }
  /** Stops the runner once every record was confirmed (the thread may poll ahead, so not when the script ends). */
  commit() {
    this.commits++;
    if (this.committedSeqs.length >= this.total) this.stop$.abort();
  }
  async stop() { this.stopped = true; }
}

const rec = (seq: number, extra: Partial<SourceRecord> = {}): SourceRecord => ({ sourcePartition: { s: 0 }, sourceOffset: { seq }, topic: 'out', key: `k${seq}`, value: { seq }, ...extra });

test('threaded: records converted in the task thread go out with their offsets in one transaction, the task hears of each commit after it', async () => {
  const kafka = new RecordingKafka();
  const stop = new AbortController();
  const task = new ScriptedTask([[rec(0), rec(1)], [rec(2)]], stop);
  await threadedRunner(kafka, registryWith(() => task), spec()).run(stop.signal);
  assert.deepEqual(kafka.calls.slice(0, 3), ['connect', 'read:offsets', 'create:out']);
  assert.equal(kafka.calls.at(-1), 'disconnect');
  // One or two transactions (batches queued while one commits go into the next together), each with its offsets.
  assert.match(kafka.calls.slice(3, -1).join(' '), /^begin send:out,offsets commit( begin send:out,offsets commit)?$/);
  assert.deepEqual(task.committedSeqs, [0, 1, 2], 'every record once, in poll order');
  // The thread tells the task between polls: two transactions committed by then are told with one commit().
  assert.ok(task.commits >= 1 && task.commits <= 2, `commit() per told transaction(s), got ${task.commits}`);
  assert.equal(task.stopped, true);
  const out = kafka.committed.filter((r) => r.topic === 'out');
  assert.deepEqual(out.map((r) => [r.key!.toString(), r.value!.toString()]), [['k0', '{"seq":0}'], ['k1', '{"seq":1}'], ['k2', '{"seq":2}']]);
  const offsets = kafka.committed.filter((r) => r.topic === 'offsets');
  assert.deepEqual(JSON.parse(offsets.at(-1)!.value!.toString()), { seq: 2 }, 'the last committed offset is the last record\'s');

  const stop2 = new AbortController();
  const second = new ScriptedTask([], stop2);
  await threadedRunner(kafka, registryWith(() => second), spec()).run(stop2.signal);
  assert.deepEqual(second.startOffset, { seq: 2 }, 'the next incarnation starts from the committed offset, handed to the thread');
});

test('threaded: filtered, dead-lettered and skipped records advance the offset and are counted once', async () => {
  const kafka = new RecordingKafka();
  const stop = new AbortController();
  const metrics = new TaskMetrics();
  const task = new ScriptedTask([[
    rec(0, { filteredBy: 'filter.keys' }),
    rec(1, { deadLetterReason: 'value over 1 MiB' }),
    rec(2),
  ]], stop);
  await threadedRunner(kafka, registryWith(() => task), spec({ ...FAIL, tolerance: 'all', deadLetterTopic: 'dlq' }), { metrics }).run(stop.signal);
  assert.deepEqual(kafka.committed.filter((r) => r.topic !== 'offsets').map((r) => r.topic), ['dlq', 'out'], kafka.calls.join(' '));
  assert.deepEqual(JSON.parse(kafka.committed.find((r) => r.topic === 'offsets')!.value!.toString()), { seq: 2 });
  assert.deepEqual(task.committedSeqs, [0, 1, 2]);
  assert.equal(metrics.recordsFiltered, 1);
  assert.equal(metrics.deadLetterRecords, 1);
  assert.equal(metrics.recordsCommitted, 3);

  const kafka2 = new RecordingKafka();
  const stop2 = new AbortController();
  const metrics2 = new TaskMetrics();
  const skipping = new ScriptedTask([[rec(0, { value: 1n }), rec(1)]], stop2);
  await threadedRunner(kafka2, registryWith(() => skipping), spec({ ...FAIL, tolerance: 'all' }), { metrics: metrics2 }).run(stop2.signal);
  assert.equal(metrics2.recordsSkipped, 1, 'an unconvertible record is skipped under tolerance=all without a DLQ');
  assert.equal(metrics2.recordsFiltered, 0, 'and not counted as filtered');
  assert.deepEqual(skipping.committedSeqs, [0, 1]);
});

test('threaded: a ConnectError thrown by the task reaches the runner with its code, and the transaction is aborted', async () => {
  const kafka = new RecordingKafka();
  const stop = new AbortController();
  const task = new ScriptedTask([[rec(0)], new ConnectError('master refused the password', { code: 'AUTH', stage: 'poll' }) as unknown as SourceRecord[]], stop);
  const error = await threadedRunner(kafka, registryWith(() => task), spec()).run(stop.signal).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ConnectError);
  assert.equal(error.message, 'master refused the password');
  assert.equal(error.code, 'AUTH');
  assert.equal(error.retriable, false);
  assert.equal(task.stopped, true);
  assert.equal(kafka.calls.at(-1), 'disconnect');
});

test('threaded: the task context forwards status, log lines and connector metrics to the Kafka thread', async () => {
  const kafka = new RecordingKafka();
  const stop = new AbortController();
  const seen: string[] = [];
  const facade: TaskMetricsFacade = {
    gauge: (name) => ({ set: (v) => seen.push(`${name}=${v}`) }),
    counter: (name) => ({ inc: (by) => seen.push(`${name}+${by}`) }),
  };
  const task = new ScriptedTask([[rec(0)]], stop, (ctx) => {
    ctx.reportStatus({ phase: 'binlog' });
    ctx.metrics!.gauge('lag_items', 'lag').set(4);
    ctx.metrics!.counter('reconnects_total', 'reconnects').inc();
  });
  const runner = threadedRunner(kafka, registryWith(() => task), spec(), { facade });
  await runner.run(stop.signal);
  assert.deepEqual(runner.status, { phase: 'binlog' });
  assert.deepEqual(seen.sort(), ['lag_items=4', 'reconnects_total+1']);
});

test('threaded: a real worker thread runs a bundled connector (synthetic) and exactly its records are committed', async () => {
  const kafka = new RecordingKafka();
  const stop = new AbortController();
  const s: ThreadedTaskSpec = {
    connectorClass: 'synthetic', connectorProps: { 'synthetic.streams': '1', 'synthetic.max.records': '30', 'synthetic.batch.size': '10' },
    errors: FAIL, maxBatchesInFlight: 2, keyConverter: { name: 'string', props: {} }, valueConverter: { name: 'json', props: { 'schemas.enable': 'false' } },
  };
  const metrics = new TaskMetrics();
  const connector = bundledPlugins().connector('synthetic')!.create();
  await connector.start(s.connectorProps, { connectorName: 'c1', requestTaskReconfiguration: () => {} });
  const runner = new TaskRunner({ ...settings(), taskConfig: connector.taskConfigs(1)[0]! }, {
    client: kafka, createTask: () => new ThreadedTask(s, { metrics }), keyConverter: new PreparedBytesConverter(), valueConverter: new PreparedBytesConverter(),
    topics: new TopicManager(() => kafka.admin(), { enabled: true, groups: [] }), logger, metrics,
  });
  const done = runner.run(stop.signal);
  while (metrics.recordsCommitted < 30) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  await done;
  assert.equal(kafka.committed.filter((r) => r.topic === 'synthetic').length, 30);
});
