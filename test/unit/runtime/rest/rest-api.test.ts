// The REST API driven with a real HTTP client against a worker on the in-memory RecordingKafka: lifecycle, offsets,
// loggers, masking, auth. The same paths run on real Kafka in test/integration/rest/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkerProps } from '../../../../runtime/config/index.ts';
import { bundledPlugins } from '../../../../runtime/bundled-plugins.ts';
import { startRestApi, workerMetrics, type RestServer } from '../../../../runtime/rest/index.ts';
import { createRootLogger } from '../../../../runtime/util/logger.ts';
import { Worker } from '../../../../runtime/worker/worker.ts';
import { decodeOffsetKey } from '../../../../runtime/storage/offset-codec.ts';
import { RecordingKafka } from '../../../helpers/recording-kafka.ts';
import { parsePrometheusText, sampleValue } from '../metrics/prom-text.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function startWorker(extra: Record<string, string> = {}) {
  const kafka = new RecordingKafka();
  const config = parseWorkerProps({
    'bootstrap.servers': '127.0.0.1:1',
    listeners: 'http://127.0.0.1:0',
    'offset.storage.topic': 'offsets',
    'offset.checkpoint.dir': mkdtempSync(join(tmpdir(), 'pc-rest-')),
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter.schemas.enable': 'false',
    ...extra,
  });
  const logger = createRootLogger('error');
  let worker: Worker | undefined;
  const metrics = workerMetrics(() => worker);
  worker = new Worker(config, bundledPlugins(), logger, { client: kafka, connectorMetrics: (c, t) => metrics.facade(c, t) });
  await worker.start([]);
  const server: RestServer = await startRestApi(worker, logger, metrics);
  const base = server.addresses[0]!;
  const stop = async () => {
    await server.close();
    await worker!.stop();
  };
  return { kafka, worker, logger, base, stop };
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const json = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
  return { status: res.status, text, json, headers: res.headers };
}

/** Records of topic `t` as {stream, seq}, in commit order. */
function records(kafka: RecordingKafka, topic: string): Array<{ stream: number; seq: number }> {
  return kafka.committed.filter((r) => r.topic === topic).map((r) => JSON.parse(r.value!.toString()) as { stream: number; seq: number });
}

test('connector lifecycle over REST: create, status, pause really stops polling, resume, stop, offsets, resume from them, delete', { timeout: 120_000 }, async () => {
  const { kafka, base, stop } = await startWorker();
  try {
    const created = await call(base, 'PUT', '/connectors/seq/config', {
      'connector.class': 'synthetic', 'tasks.max': '1', 'synthetic.topic': 'seq-topic', 'synthetic.streams': '2',
      'synthetic.rate': '200', 'synthetic.batch.size': '10', 'producer.override.sasl.jaas.config': 'secret-jaas',
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json.tasks, []);
    assert.equal(created.json.type, 'source');
    assert.equal(created.json.config['producer.override.sasl.jaas.config'], '[hidden]');

    await waitFor('RUNNING with committed records', async () => {
      const s = (await call(base, 'GET', '/connectors/seq/status')).json;
      return s.connector.state === 'RUNNING' && s.tasks[0]?.state === 'RUNNING' && records(kafka, 'seq-topic').length > 20;
    });
    for (const path of ['/connectors/seq', '/connectors/seq/config', '/connectors/seq/tasks', '/connectors?expand=info&expand=status']) {
      const r = await call(base, 'GET', path);
      assert.equal(r.status, 200, path);
      assert.ok(!r.text.includes('secret-jaas'), `${path} does not echo the secret`);
    }
    const tasks = (await call(base, 'GET', '/connectors/seq/tasks')).json;
    assert.deepEqual(tasks[0].id, { connector: 'seq', task: 0 });
    assert.equal((await call(base, 'GET', '/connectors/seq/tasks/0/status')).json.state, 'RUNNING');
    const expanded = (await call(base, 'GET', '/connectors?expand=status')).json;
    assert.equal(expanded.seq.status.connector.state, 'RUNNING');
    assert.deepEqual((await call(base, 'GET', '/connectors')).json, ['seq']);

    // Pause: once the task reports PAUSED it has committed and polls no more.
    assert.equal((await call(base, 'PUT', '/connectors/seq/pause')).status, 202);
    await waitFor('PAUSED', async () => {
      const s = (await call(base, 'GET', '/connectors/seq/status')).json;
      return s.connector.state === 'PAUSED' && s.tasks.every((t: { state: string }) => t.state === 'PAUSED');
    });
    const pollTotal = async () => sampleValue(parsePrometheusText((await call(base, 'GET', '/metrics')).text), 'kafka_connect_source_task_metrics_source_record_poll_total', { connector: 'seq', task: '0' });
    const committedWhilePaused = kafka.committed.length;
    const polledWhilePaused = await pollTotal();
    await sleep(600); // three times the synthetic rate's batch interval: a running task would have polled
    assert.equal(kafka.committed.length, committedWhilePaused, 'nothing is written while paused');
    assert.equal(await pollTotal(), polledWhilePaused, 'poll() is not called while paused');

    assert.equal((await call(base, 'PUT', '/connectors/seq/resume')).status, 202);
    await waitFor('records after resume', () => kafka.committed.length > committedWhilePaused + 10);

    // Offsets can only change while STOPPED.
    const early = await call(base, 'PATCH', '/connectors/seq/offsets', { offsets: [{ partition: { stream: 0 }, offset: { seq: 5000 } }] });
    assert.equal(early.status, 400);
    assert.match(early.json.message, /must be in the STOPPED state/);
    assert.equal(early.json.error_code, 400);

    assert.equal((await call(base, 'PUT', '/connectors/seq/stop')).status, 204);
    const stopped = (await call(base, 'GET', '/connectors/seq/status')).json;
    assert.equal(stopped.connector.state, 'STOPPED');
    assert.deepEqual(stopped.tasks, []);
    assert.equal((await call(base, 'GET', '/connectors/seq/config')).json['synthetic.topic'], 'seq-topic', 'a stopped connector keeps its config');
    const writtenWhenStopped = records(kafka, 'seq-topic').length;

    const before = (await call(base, 'GET', '/connectors/seq/offsets')).json;
    assert.deepEqual(before.offsets.map((o: { partition: unknown }) => o.partition).sort((a: { stream: number }, b: { stream: number }) => a.stream - b.stream), [{ stream: 0 }, { stream: 1 }]);

    const reset = await call(base, 'DELETE', '/connectors/seq/offsets');
    assert.equal(reset.status, 200);
    assert.equal(reset.json.message, 'The offsets for this connector have been reset successfully');
    assert.deepEqual((await call(base, 'GET', '/connectors/seq/offsets')).json, { offsets: [] });
    const tombstones = kafka.committed.filter((r) => r.topic === 'offsets' && r.value === null);
    assert.equal(tombstones.length, 2, 'reset writes one tombstone per partition');
    assert.deepEqual(decodeOffsetKey(tombstones[0]!.key)?.connector, 'seq');

    const altered = await call(base, 'PATCH', '/connectors/seq/offsets', { offsets: [{ partition: { stream: 0 }, offset: { seq: 5000 } }] });
    assert.equal(altered.status, 200, altered.text);
    assert.equal(altered.json.message, 'The offsets for this connector have been altered successfully');
    assert.deepEqual((await call(base, 'GET', '/connectors/seq/offsets')).json, { offsets: [{ partition: { stream: 0 }, offset: { seq: 5000 } }] });
    assert.equal(records(kafka, 'seq-topic').length, writtenWhenStopped, 'a stopped connector writes nothing');

    // Pause from STOPPED starts the connector with its tasks paused (Kafka Connect); resume then lets them poll.
    assert.equal((await call(base, 'PUT', '/connectors/seq/pause')).status, 202);
    await waitFor('PAUSED from STOPPED', async () => {
      const s = (await call(base, 'GET', '/connectors/seq/status')).json;
      return s.connector.state === 'PAUSED' && s.tasks.length === 1 && s.tasks[0].state === 'PAUSED';
    });
    assert.equal(records(kafka, 'seq-topic').length, writtenWhenStopped, 'paused tasks write nothing');
    assert.equal((await call(base, 'PUT', '/connectors/seq/resume')).status, 202);
    const after = await waitFor('records of both streams after the offsets change', () => {
      const fresh = records(kafka, 'seq-topic').slice(writtenWhenStopped);
      return fresh.some((r) => r.stream === 0) && fresh.some((r) => r.stream === 1) ? fresh : undefined;
    });
    assert.equal(after.find((r) => r.stream === 0)!.seq, 5001, 'stream 0 continues after the offset that was set');
    assert.equal(after.find((r) => r.stream === 1)!.seq, 0, 'stream 1 starts over after the reset');

    const restarted = await call(base, 'POST', '/connectors/seq/restart?includeTasks=true&onlyFailed=true');
    assert.equal(restarted.status, 202);
    assert.equal(restarted.json.name, 'seq');
    assert.equal((await call(base, 'POST', '/connectors/seq/restart')).status, 204);
    assert.equal((await call(base, 'POST', '/connectors/seq/tasks/0/restart')).status, 204);
    assert.equal((await call(base, 'POST', '/connectors/seq/tasks/7/restart')).status, 404);

    assert.equal((await call(base, 'DELETE', '/connectors/seq')).status, 204);
    const gone = await call(base, 'GET', '/connectors/seq/status');
    assert.deepEqual(gone.json, { error_code: 404, message: 'Connector seq not found' });
    assert.deepEqual((await call(base, 'GET', '/connectors')).json, []);
  } finally {
    await stop();
  }
});

test('config: invalid connector configs are refused with every problem; name mismatch; plugins and validate', async () => {
  const { base, stop } = await startWorker();
  try {
    const bad = await call(base, 'PUT', '/connectors/x/config', { 'connector.class': 'synthetic', 'tasks.max': '0', 'synthetic.rate': 'fast' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /contains the following 2 error\(s\)/);
    assert.match(bad.json.message, /tasks\.max/);
    assert.match(bad.json.message, /synthetic\.rate/);
    const mismatch = await call(base, 'PUT', '/connectors/x/config', { name: 'y', 'connector.class': 'synthetic' });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.json.message, /doesn't match connector name in the URL/);
    assert.equal((await call(base, 'GET', '/connectors/x')).status, 404);

    const defs = (await call(base, 'GET', '/connector-plugins/synthetic/config')).json as Array<{ name: string; required: boolean }>;
    assert.ok(defs.some((d) => d.name === 'tasks.max') && defs.some((d) => d.name === 'synthetic.rate'));
    assert.equal(defs.find((d) => d.name === 'connector.class')?.required, true);
    const plugins = (await call(base, 'GET', '/connector-plugins')).json as Array<{ class: string; type: string; version: string }>;
    assert.ok(plugins.some((p) => p.class === 'io.pika.connect.SyntheticSourceConnector' && p.type === 'source' && p.version));

    const validated = await call(base, 'PUT', '/connector-plugins/synthetic/config/validate', { 'tasks.max': '0', 'value.converter.basic.auth.user.info': 'me:pw' });
    assert.equal(validated.status, 200);
    assert.equal(validated.json.error_count, 2, validated.text); // name missing, tasks.max
    assert.ok(!validated.text.includes('me:pw'));
    const other = await call(base, 'PUT', '/connector-plugins/synthetic/config/validate', { 'connector.class': 'io.pika.connect.PikaSourceConnector' });
    assert.equal(other.status, 400);
    assert.equal((await call(base, 'PUT', '/connector-plugins/nope/config/validate', {})).status, 404);

    const root = (await call(base, 'GET', '/')).json;
    assert.match(root.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof root.commit, 'string');
    assert.equal((await call(base, 'GET', '/health')).json.status, 'healthy');
    const notJson = await fetch(`${base}/connectors/x/config`, { method: 'PUT', body: '{oops' });
    assert.equal(notJson.status, 400);
    assert.equal((await call(base, 'DELETE', '/health')).status, 405);
  } finally {
    await stop();
  }
});

test('loggers: levels change at run time for a logger and its descendants', async () => {
  const { base, logger, stop } = await startWorker();
  try {
    const created = await call(base, 'PUT', '/connectors/lg/config', { 'connector.class': 'synthetic', 'synthetic.rate': '10', 'synthetic.topic': 'lg' });
    assert.equal(created.status, 201);
    await waitFor('task logger', async () => 'connector.lg.task.0' in (await call(base, 'GET', '/admin/loggers')).json);
    const changed = await call(base, 'PUT', '/admin/loggers/connector.lg', { level: 'DEBUG' });
    assert.equal(changed.status, 200);
    assert.ok(changed.json.includes('connector.lg') && changed.json.includes('connector.lg.task.0'), changed.text);
    assert.equal((await call(base, 'GET', '/admin/loggers/connector.lg.task.0')).json.level, 'DEBUG');
    assert.equal((await call(base, 'GET', '/admin/loggers/root')).json.level, 'ERROR');
    assert.equal(logger.levels.effective('connector.lg.task.0'), 'debug');
    assert.equal(logger.child({ component: 'kafka' }).enabled('debug'), false, 'other loggers keep the root level');
    assert.equal((await call(base, 'PUT', '/admin/loggers/root', { level: 'LOUD' })).status, 400);
    logger.child({ connector: 'lg' }).error('master unreachable', { host: 'pika-1' });
    const recent = (await call(base, 'GET', '/admin/recent-problems')).json as Array<{ level: string; logger: string; msg: string }>;
    assert.deepEqual(recent.map(({ level, logger: name, msg }) => ({ level, name, msg })).at(-1), { level: 'error', name: 'connector.lg', msg: 'master unreachable' });
    assert.equal((await call(base, 'GET', '/admin/loggers/nope')).status, 404);
  } finally {
    await stop();
  }
});

test('basic auth: every path needs the credentials when configured', async () => {
  const { base, stop } = await startWorker({ 'rest.basic.auth.user': 'ops', 'rest.basic.auth.password': 's3cret' });
  try {
    const none = await call(base, 'GET', '/connectors');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic/);
    const wrong = await call(base, 'GET', '/metrics', undefined, { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` });
    assert.equal(wrong.status, 401);
    const right = await call(base, 'GET', '/connectors', undefined, { authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` });
    assert.equal(right.status, 200);
  } finally {
    await stop();
  }
});

test('pause with transaction.boundary=interval commits the open transaction before reporting PAUSED', { timeout: 60_000 }, async () => {
  const { kafka, base, stop } = await startWorker();
  try {
    const created = await call(base, 'PUT', '/connectors/iv/config', {
      'connector.class': 'synthetic', 'synthetic.topic': 'iv', 'synthetic.rate': '200', 'synthetic.batch.size': '5',
      'transaction.boundary': 'interval', 'transaction.boundary.interval.ms': '600000',
    });
    assert.equal(created.status, 201, created.text);
    const metric = async (name: string) => sampleValue(parsePrometheusText((await call(base, 'GET', '/metrics')).text), `kafka_connect_source_task_metrics_${name}`, { connector: 'iv', task: '0' });
    await waitFor('records written inside the open transaction', async () => ((await metric('source_record_write_total')) ?? 0) > 10);
    assert.equal(records(kafka, 'iv').length, 0, 'nothing committed yet: the interval is ten minutes');
    assert.equal((await call(base, 'PUT', '/connectors/iv/pause')).status, 202);
    await waitFor('PAUSED', async () => (await call(base, 'GET', '/connectors/iv/status')).json.tasks[0]?.state === 'PAUSED');
    const written = await metric('source_record_write_total');
    assert.equal(records(kafka, 'iv').length, written, 'every record written before the pause is committed');
    assert.equal(await metric('source_record_committed_total'), written);
  } finally {
    await stop();
  }
});

test('a failing task shows FAILED with its trace and in the metrics; restart?includeTasks&onlyFailed brings it back', { timeout: 60_000 }, async () => {
  const { kafka, base, stop } = await startWorker({ 'connector.restart.backoff.max.ms': '600000' });
  try {
    kafka.failOn = (call) => (call === 'commit' ? new Error('broker said no') : undefined);
    const created = await call(base, 'PUT', '/connectors/fl/config', { 'connector.class': 'synthetic', 'synthetic.topic': 'fl', 'synthetic.rate': '100' });
    assert.equal(created.status, 201);
    const failed = await waitFor('FAILED', async () => {
      const t = (await call(base, 'GET', '/connectors/fl/tasks/0/status')).json;
      return t?.state === 'FAILED' ? t : undefined;
    });
    assert.match(failed.trace, /broker said no/);
    const m = parsePrometheusText((await call(base, 'GET', '/metrics')).text);
    const labels = { connector: 'fl', task: '0' };
    assert.ok(sampleValue(m, 'kafka_connect_connector_task_metrics_offset_commit_failure_total', labels)! >= 1);
    assert.ok(sampleValue(m, 'kafka_connect_source_task_metrics_transaction_aborted_total', labels)! >= 1);
    assert.equal(sampleValue(m, 'kafka_connect_connector_task_metrics_status', { ...labels, status: 'failed' }), 1);

    kafka.failOn = undefined;
    const restarted = await call(base, 'POST', '/connectors/fl/restart?includeTasks=true&onlyFailed=true');
    assert.equal(restarted.status, 202);
    await waitFor('RUNNING with committed records', async () => {
      const t = (await call(base, 'GET', '/connectors/fl/tasks/0/status')).json;
      return t?.state === 'RUNNING' && records(kafka, 'fl').length > 0;
    });
    assert.equal((await call(base, 'GET', '/connectors/fl/tasks/0/status')).json.trace, undefined, 'the old trace is gone');
  } finally {
    await stop();
  }
});
