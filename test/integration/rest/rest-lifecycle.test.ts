// The REST API, /metrics and the offsets/validate/diagnose commands against a real worker process on real Kafka
// (env KAFKA_BOOTSTRAP), with the built-in synthetic connector.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bootstrap, kafkaClient, readAllCommitted, uniqueName } from '../../helpers/kafka.ts';
import { WorkerProcess, tempDir, writeProperties } from '../../helpers/worker-process.ts';
import { parsePrometheusText, sampleValue } from '../../unit/runtime/metrics/prom-text.ts';

const CLI = fileURLToPath(new URL('../../../bin/pika-connect.js', import.meta.url));
const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      // e.g. the topic the connector creates does not exist yet
      if (error instanceof assert.AssertionError) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await sleep(200);
  }
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  const json = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
  return { status: res.status, text, json };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The URL the worker logged once its REST API listens (listeners uses port 0). */
async function restUrl(w: WorkerProcess): Promise<string> {
  return waitFor('the REST API to listen', () => {
    assert.equal(w.child.exitCode, null, `worker exited; log:\n${w.log.slice(-3000)}`);
    const line = w.log.split('\n').find((l) => l.includes('"REST API listening"'));
    return line ? (JSON.parse(line) as { urls: string[] }).urls[0] : undefined;
  });
}

type Seq = { stream: number; seq: number };
const sequences = async (topic: string): Promise<Seq[]> =>
  (await readAllCommitted(topic)).map((r) => JSON.parse(r.value!.toString()) as Seq);

const dir = tempDir('pc-rest-it-');
const offsetsTopic = uniqueName('rest-offsets');
const workerFile = writeProperties(dir, 'worker.properties', {
  'bootstrap.servers': bootstrap(),
  listeners: 'http://127.0.0.1:0',
  'client.id': uniqueName('rest-it'),
  'offset.storage.topic': offsetsTopic,
  'offset.storage.partitions': 2,
  'offset.checkpoint.dir': join(dir, 'checkpoints'),
  'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter.schemas.enable': 'false',
});
const seedTopic = uniqueName('rest-seed');
const seedFile = writeProperties(dir, 'seed.properties', {
  name: uniqueName('seed'), 'connector.class': 'synthetic', 'synthetic.topic': seedTopic, 'synthetic.rate': 20, 'synthetic.streams': 1,
});
const worker = new WorkerProcess([workerFile, seedFile]);
after(async () => {
  if (worker.child.exitCode === null) await worker.kill('SIGTERM');
});

test('REST lifecycle on real Kafka: create, RUNNING, pause stops records, resume, stop, offsets reset/alter, resume from them, delete; /metrics moves', { timeout: 300_000 }, async () => {
  const base = await restUrl(worker);
  const root = (await call(base, 'GET', '/')).json;
  assert.match(root.kafka_cluster_id, /^[A-Za-z0-9_-]{22}$/, 'GET / names the Kafka cluster');

  const name = uniqueName('rest-b');
  const topic = uniqueName('rest-b-topic');
  const created = await call(base, 'PUT', `/connectors/${name}/config`, {
    'connector.class': 'io.pika.connect.SyntheticSourceConnector', 'tasks.max': '1', 'synthetic.topic': topic,
    'synthetic.streams': '2', 'synthetic.rate': '100', 'synthetic.batch.size': '20',
    // One partition: records are compared by their position in the topic.
    'topic.creation.default.partitions': '1',
  });
  assert.equal(created.status, 201, created.text);

  const offsetOf = async (stream: number): Promise<number> => {
    const { offsets } = (await call(base, 'GET', `/connectors/${name}/offsets`)).json as { offsets: Array<{ partition: { stream: number }; offset: { seq: number } }> };
    return offsets.find((o) => o.partition.stream === stream)?.offset.seq ?? -1;
  };
  await waitFor('RUNNING with committed offsets', async () => {
    const s = (await call(base, 'GET', `/connectors/${name}/status`)).json;
    return s.connector.state === 'RUNNING' && s.tasks[0]?.state === 'RUNNING' && (await offsetOf(0)) >= 20 && (await offsetOf(1)) >= 20;
  });

  const scrape = async () => parsePrometheusText((await call(base, 'GET', '/metrics')).text);
  const labels = { connector: name, task: '0' };
  const polled1 = sampleValue(await scrape(), 'kafka_connect_source_task_metrics_source_record_poll_total', labels)!;
  assert.ok(polled1 > 0);
  const moved = await waitFor('the poll counter to move', async () => {
    const m = await scrape();
    const polled = sampleValue(m, 'kafka_connect_source_task_metrics_source_record_poll_total', labels)!;
    return polled > polled1 ? m : undefined;
  });
  assert.ok(sampleValue(moved, 'kafka_connect_source_task_metrics_source_record_write_total', labels)! > 0);
  assert.ok(sampleValue(moved, 'kafka_connect_connector_task_metrics_offset_commit_completion_total', labels)! > 0);
  assert.equal(sampleValue(moved, 'kafka_connect_connector_task_metrics_status', { ...labels, status: 'running' }), 1);

  // Pause: no new records reach Kafka while PAUSED.
  assert.equal((await call(base, 'PUT', `/connectors/${name}/pause`)).status, 202);
  await waitFor('PAUSED', async () => {
    const s = (await call(base, 'GET', `/connectors/${name}/status`)).json;
    return s.connector.state === 'PAUSED' && s.tasks.every((t: { state: string }) => t.state === 'PAUSED');
  });
  const pausedCount = (await sequences(topic)).length;
  const pausedOffset = await offsetOf(0);
  const pollsPaused = sampleValue(await scrape(), 'kafka_connect_source_task_metrics_source_record_poll_total', labels)!;
  await sleep(1_500); // at 100 records/s a running task would have polled and written ~150 records by now
  assert.equal(sampleValue(await scrape(), 'kafka_connect_source_task_metrics_source_record_poll_total', labels), pollsPaused, 'the task is not polled while paused');
  assert.equal((await sequences(topic)).length, pausedCount, 'no records are written while paused');
  assert.equal(await offsetOf(0), pausedOffset);

  assert.equal((await call(base, 'PUT', `/connectors/${name}/resume`)).status, 202);
  await waitFor('polling and progress after resume', async () =>
    sampleValue(await scrape(), 'kafka_connect_source_task_metrics_source_record_poll_total', labels)! > pollsPaused && (await offsetOf(0)) > pausedOffset);

  assert.equal((await call(base, 'PATCH', `/connectors/${name}/offsets`, { offsets: [{ partition: { stream: 0 }, offset: { seq: 1 } }] })).status, 400, 'offsets change only while STOPPED');
  assert.equal((await call(base, 'PUT', `/connectors/${name}/stop`)).status, 204);
  // The answer comes once the tasks stopped, or after task.shutdown.graceful.timeout.ms on a slow machine.
  const stopped = await waitFor('STOPPED', async () => {
    const s = (await call(base, 'GET', `/connectors/${name}/status`)).json;
    return s.connector.state === 'STOPPED' ? s : undefined;
  });
  assert.deepEqual(stopped.tasks, []);

  assert.equal((await call(base, 'DELETE', `/connectors/${name}/offsets`)).status, 200);
  assert.deepEqual((await call(base, 'GET', `/connectors/${name}/offsets`)).json, { offsets: [] });
  const patched = await call(base, 'PATCH', `/connectors/${name}/offsets`, { offsets: [{ partition: { stream: 0 }, offset: { seq: 1_000_000 } }] });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(await offsetOf(0), 1_000_000);
  const beforeResume = (await sequences(topic)).length;

  assert.equal((await call(base, 'PUT', `/connectors/${name}/resume`)).status, 202);
  const fresh = await waitFor('records of both streams after the new offsets', async () => {
    const all = (await sequences(topic)).slice(beforeResume);
    return all.some((r) => r.stream === 0) && all.some((r) => r.stream === 1) ? all : undefined;
  });
  assert.equal(fresh.find((r) => r.stream === 0)!.seq, 1_000_001, 'stream 0 resumes right after the offset written through PATCH');
  assert.equal(fresh.find((r) => r.stream === 1)!.seq, 0, 'stream 1 starts over after DELETE offsets');

  assert.equal((await call(base, 'DELETE', `/connectors/${name}`)).status, 204);
  assert.equal((await call(base, 'GET', `/connectors/${name}/status`)).status, 404);
  const after = await scrape();
  assert.equal(sampleValue(after, 'kafka_connect_source_task_metrics_source_record_poll_total', labels), undefined, 'a deleted connector has no series');
});

test('offsets CLI on real Kafka: set, show, reset round trip; a connector started afterwards resumes from the set offset; refused while a worker runs it', { timeout: 300_000 }, async () => {
  const name = uniqueName('cli-conn');
  const topic = uniqueName('cli-topic');
  const set0 = await cli(['offsets', 'set', workerFile, name, '{"stream":0}', '{"seq":41}']);
  assert.equal(set0.code, 0, set0.stderr);
  assert.equal((await cli(['offsets', 'set', workerFile, name, '{"stream":1}', '{"seq":7}'])).code, 0);
  const shown = await cli(['offsets', 'show', workerFile, name]);
  assert.equal(shown.code, 0, shown.stderr);
  const offsets = (JSON.parse(shown.stdout) as { offsets: Array<{ partition: { stream: number }; offset: { seq: number } }> }).offsets;
  assert.deepEqual(offsets.sort((a, b) => a.partition.stream - b.partition.stream), [
    { partition: { stream: 0 }, offset: { seq: 41 } },
    { partition: { stream: 1 }, offset: { seq: 7 } },
  ]);
  const reset = await cli(['offsets', 'reset', workerFile, name]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, /reset 2 partition\(s\)/);
  assert.deepEqual(JSON.parse((await cli(['offsets', 'show', workerFile, name])).stdout), { offsets: [] });
  const badJson = await cli(['offsets', 'set', workerFile, name, '{stream:0}', '{"seq":1}']);
  assert.equal(badJson.code, 2);
  assert.match(badJson.stderr, /partition: not valid JSON/);

  // Set, then run the connector through the running worker: it starts right after the offset set by the CLI.
  assert.equal((await cli(['offsets', 'set', workerFile, name, '{"stream":0}', '{"seq":41}'])).code, 0);
  const base = await restUrl(worker);
  const created = await call(base, 'PUT', `/connectors/${name}/config`, {
    'connector.class': 'synthetic', 'synthetic.topic': topic, 'synthetic.streams': '1', 'synthetic.rate': '50',
  });
  assert.equal(created.status, 201, created.text);
  const first = await waitFor('the first record', async () => (await sequences(topic))[0]);
  assert.deepEqual({ stream: first.stream, seq: first.seq }, { stream: 0, seq: 42 });

  // A worker file whose listener is the running worker: the CLI sees the connector running and refuses to write.
  const liveWorkerFile = writeProperties(dir, 'live-worker.properties', {
    ...Object.fromEntries(readFileSync(workerFile, 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string])),
    listeners: base,
  });
  const refused = await cli(['offsets', 'reset', liveWorkerFile, name]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, new RegExp(`runs connector ${name} \\(state RUNNING\\)`));
  assert.equal((await call(base, 'DELETE', `/connectors/${name}`)).status, 204);
});

test('offsets CLI before any worker ran: show names the missing offsets topic; set creates it compacted', { timeout: 180_000 }, async () => {
  const fresh = uniqueName('fresh-offsets');
  const freshWorker = writeProperties(dir, 'fresh-worker.properties', {
    'bootstrap.servers': bootstrap(), listeners: 'http://127.0.0.1:0', 'offset.storage.topic': fresh, 'offset.storage.partitions': 1,
  });
  const missing = await cli(['offsets', 'show', freshWorker, 'c']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`the offsets topic ${fresh} \\(offset.storage.topic of .*\\) does not exist`));
  assert.equal((await cli(['offsets', 'set', freshWorker, 'c', '{"db":"db0"}', '{"file":3,"pos":1024}'])).code, 0);
  assert.deepEqual(JSON.parse((await cli(['offsets', 'show', freshWorker, 'c'])).stdout), { offsets: [{ partition: { db: 'db0' }, offset: { file: 3, pos: 1024 } }] });
  const admin = kafkaClient('rest-it-admin').admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: fresh, configNames: ['cleanup.policy'] }] });
    assert.equal(described.resources[0]?.configEntries[0]?.configValue, 'compact');
  } finally {
    await admin.disconnect();
  }
});

test('validate and diagnose commands: every problem with exit 2; a support bundle with status, metrics, topics and no secrets', { timeout: 180_000 }, async () => {
  const good = await cli(['validate', workerFile, seedFile]);
  assert.equal(good.code, 0, good.stderr);
  const bad = writeProperties(dir, 'bad.properties', { name: 'bad', 'connector.class': 'synthetic', 'tasks.max': 0, 'synthetic.rate': 'fast', 'pika.password': 'pw' });
  const invalid = await cli(['validate', workerFile, bad]);
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /tasks\.max/);
  assert.match(invalid.stderr, /synthetic\.rate/);
  assert.match(invalid.stderr, /pika\.password: unknown connector key/);

  const base = await restUrl(worker);
  const secretFile = writeProperties(dir, 'secret.properties', { name: 'sec', 'connector.class': 'synthetic', 'producer.override.sasl.jaas.config': 'top-secret-jaas' });
  const out = join(dir, 'bundle.json');
  const run = await cli(['diagnose', workerFile, seedFile, secretFile, '--url', base, '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const text = readFileSync(out, 'utf8');
  assert.ok(!text.includes('top-secret-jaas'), 'secrets are redacted');
  const bundle = JSON.parse(text);
  assert.equal(bundle.versions.pika_connect, root().version);
  assert.equal(bundle.rest.reachable, true);
  const seedName = (bundle.connector_configs[0].props as Record<string, string>).name!;
  assert.equal(bundle.rest.connectors[seedName].status.connector.state, 'RUNNING');
  assert.ok(parsePrometheusText(bundle.rest.metrics).size > 10, 'the metrics snapshot parses');
  assert.ok(Array.isArray(bundle.rest.recent_problems), 'the last warnings and errors are included');
  assert.ok((bundle.kafka.topics as Array<{ name: string }>).some((t) => t.name === offsetsTopic));
  assert.ok(Array.isArray(bundle.kafka.offsets[seedName]));
});

function root(): { version: string } {
  return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
}
