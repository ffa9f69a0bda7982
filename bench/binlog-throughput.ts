/**
 * Binlog events/s from the test master through the runtime (Pika source connector, JSON values) into Kafka,
 * against the ceiling of a raw kafkajs transactional producer sending the same event JSON in transactions of
 * poll.max.records (plus one offset record each, as the runtime's), with the runtime's producer settings, measured
 * in one run on the same broker (raw measured before and after the pipeline, averaged, because a shared machine's
 * load drifts). Then p50/p99 latency from the master's write to the Kafka commit at a steady 10k events/s, and RSS
 * of both processes. Targets: ≥ 100k events/s, ratio ≥ 0.8.
 * Also CPU time per event of the raw producer, the runtime process and the master process: on a machine whose
 * cores are shared, each rate follows the CPU share its process gets, and CPU per event is the steadier figure.
 *
 *   KAFKA_BOOTSTRAP=127.0.0.1:19092 npx tsx bench/binlog-throughput.ts [items] [latency-rate] [latency-seconds]
 * POLL_MAX=<n> sets poll.max.records (default 1000); SKIP_RAW=1 leaves out the raw producer (to profile the runtime
 * alone, e.g. with node --cpu-prof). THREAD=1 runs the task and its converters on a worker thread
 * (task.thread.enable=true) and reports the CPU of each thread.
 * (`bash scripts/bench.sh` starts a broker and runs every benchmark.)
 *
 * The master runs in its own process (bench/helpers/pika-master-process.ts) and preloads `items` SETs in one
 * batch; the connector starts from binlog position 0:0 through an offset written to the offsets topic beforehand,
 * so the throughput phase streams a binlog that is already on disk.
 */
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { parseConnectorProps, parseWorkerProps } from '../runtime/config/index.ts';
import { bundledPlugins } from '../runtime/bundled-plugins.ts';
import { createRootLogger } from '../runtime/util/logger.ts';
import { Worker } from '../runtime/worker/worker.ts';
import { encodeOffsetKey, encodeOffsetValue } from '../runtime/storage/offset-codec.ts';
import { pikaSourceConnectorPlugin } from '../connector/pika/source/pika-source-connector.ts';
import { startMasterProcess } from './helpers/master-process-client.ts';
import { latencyRecordingPlugin, type LatencyLog } from './helpers/latency-plugin.ts';
import { decodeBinlogItem, encodeBinlogItem } from '../connector/pika/binlog/item.ts';
import { encodeRespCommand } from '../connector/pika/protocol/resp.ts';
import { binlogItemToEvents } from '../connector/pika/events/binlog-events.ts';
import { eventKafkaKey } from '../connector/pika/events/kafka-keys.ts';
import { createBenchTopic, rawTransactionalRate, type RawRate } from './helpers/raw-producer.ts';
import { ThreadedTask } from '../runtime/worker/threaded-task/threaded-task.ts';
import { threadCpuMicros } from './helpers/thread-cpu.ts';

const bootstrap = process.env.KAFKA_BOOTSTRAP;
if (!bootstrap) throw new Error('set KAFKA_BOOTSTRAP (or run bash scripts/bench.sh)');
const ITEMS = Number(process.argv[2] ?? 500_000);
const LATENCY_RATE = Number(process.argv[3] ?? 10_000);
const LATENCY_SECONDS = Number(process.argv[4] ?? 10);
// Records per transaction for both the runtime (poll.max.records) and the raw producer.
const POLL_MAX = Number(process.env.POLL_MAX ?? 1000);
const THREAD = process.env.THREAD === '1';
const mb = (n: number) => (n / 1048576).toFixed(0);
const id = randomUUID().slice(0, 8);

const kafka = new Kafka({ clientId: 'bench-binlog', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });

const createTopic = (topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> => createBenchTopic(kafka, topic, partitions, configs);

/** Writes the committed offset "before the first item" so the task resumes at 0:0 instead of the current end. */
async function seedOffset(offsetsTopic: string, connector: string, sourceId: string, replicationId: string): Promise<void> {
  await createTopic(offsetsTopic, 1, { 'cleanup.policy': 'compact' });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic: offsetsTopic,
    acks: -1,
    messages: [{
      key: encodeOffsetKey(connector, { source_id: sourceId, db: 0 }),
      value: encodeOffsetValue({ filenum: 0, offset: 0, logic_id: 0, term: 0, replication_id: replicationId }),
    }],
  });
  await producer.disconnect();
}

/** Bytes as the runtime hands them to kafkajs (key and value Buffers). */
function rawProducer(sample: { key: string; value: string }, total: number): Promise<RawRate> {
  const value = Buffer.from(sample.value);
  return rawTransactionalRate(kafka, total, POLL_MAX, (start) => Array.from({ length: POLL_MAX }, (_, i) => ({
    key: Buffer.from(sample.key.replace(/k\d+$/, `k${(start + i) % 10000}`)),
    value,
  })));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The event the connector makes of one preloaded SET, as the JSON converter writes it (for the raw producer). */
function sampleEvent(resp: number, replicationId: string): { key: string; value: string } {
  const content = encodeRespCommand(['SET', 'k0', Buffer.alloc(100, 'v')]);
  const item = decodeBinlogItem(encodeBinlogItem({ execTime: Math.floor(Date.now() / 1000), termId: 0, logicId: 1, start: { filenum: 0, offset: 0 } }, content));
  const [event] = binlogItemToEvents(item, {
    db: 0, sourceId: `bench-${id}`, host: '127.0.0.1', port: resp, replicationId, profile: '4.0', end: { filenum: 0, offset: item.contentLength + 42 },
  });
  return { key: String(eventKafkaKey(event!)), value: JSON.stringify(event) };
}

// ---- master ----
const master = await startMasterProcess(ITEMS);
const ready = master.ready;
console.log(`test master (own process): preloaded ${ready.preloaded} SETs in ${(ready.preloadMs / 1000).toFixed(2)} s = ${Math.round(ready.preloaded / (ready.preloadMs / 1000))} items/s; binlog end ${ready.end.filenum}:${ready.end.offset}`);

// ---- raw producer ceiling before the pipeline (the machine's load drifts: measured before and after) ----
const sample = sampleEvent(ready.resp, ready.replicationId);
const rawTotal = Math.max(POLL_MAX * 10, Math.min(Math.floor(ITEMS / 2), 200_000));
const SKIP_RAW = process.env.SKIP_RAW === '1';
const rawBefore = SKIP_RAW ? undefined : await rawProducer(sample, rawTotal);

// ---- runtime ----
const connectorName = `bench-binlog-${id}`;
const sourceId = `bench-${id}`;
const offsetsTopic = `bench-binlog-offsets-${id}`;
await seedOffset(offsetsTopic, connectorName, sourceId, ready.replicationId);
const latency: LatencyLog = { samples: [], sample: undefined };
const plugins = bundledPlugins().addConnector(latencyRecordingPlugin(pikaSourceConnectorPlugin, latency, 'bench-pika'));
if (THREAD) recordThreadedLatency(latency);
const worker = parseWorkerProps({
  'bootstrap.servers': bootstrap,
  'offset.storage.topic': offsetsTopic,
  'offset.storage.partitions': '1',
  'offset.checkpoint.dir': '.cache/bench/checkpoints',
  'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter.schemas.enable': 'false',
}, { source: 'bench worker' });
const connector = parseConnectorProps({
  name: connectorName,
  // A task thread builds its task from the bundled plugins: the latency wrapper then sits on the Kafka thread.
  'connector.class': THREAD ? 'pika' : 'bench-pika',
  'task.thread.enable': String(THREAD),
  'tasks.max': '1',
  'pika.host': '127.0.0.1',
  'pika.port': String(ready.resp),
  'pika.repl.port': String(ready.repl),
  'source.id': sourceId,
  cluster: 'bench',
  'topic.binlog': `bench-binlog-${id}`,
  'snapshot.mode': 'never',
  'poll.max.records': String(POLL_MAX),
  'topic.creation.default.partitions': '3',
}, (cls) => plugins.connector(cls), { source: 'bench connector' });
const w = new Worker(worker, plugins, createRootLogger('warn'));
await w.start([connector]);
const runner = w.connector(connector.name)!;
const committed = () => runner.taskMetrics().reduce((n, t) => n + t.metrics.recordsCommitted, 0);

async function waitCommitted(n: number, what: string): Promise<void> {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const c = committed();
    if (c >= n) return;
    if (c !== last) { last = c; lastChange = performance.now(); }
    if (performance.now() - lastChange > 60_000) throw new Error(`${what}: stuck at ${c} of ${n} committed records for 60 s`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let t0 = 0;
let first = 0;
let cpu0 = process.cpuUsage();
let masterCpu0 = 0;
let mainCpu0 = 0;
const startDeadline = performance.now() + 60_000;
while (t0 === 0) {
  const n = committed();
  if (n > 0) { t0 = performance.now(); first = n; cpu0 = process.cpuUsage(); mainCpu0 = threadCpuMicros(); masterCpu0 = await master.cpuMicros(); }
  else if (performance.now() > startDeadline) throw new Error('no record committed within 60 s of the start');
  else await new Promise((r) => setTimeout(r, 2));
}
await waitCommitted(ITEMS, 'throughput phase');
const phaseMs = performance.now() - t0;
const pipelineRate = (ITEMS - first) / (phaseMs / 1000);
const cpu = process.cpuUsage(cpu0);
const mainCpuMicros = threadCpuMicros() - mainCpu0;
const masterCpuMicros = (await master.cpuMicros()) - masterCpu0;
const runtimeCpuShare = (cpu.user + cpu.system) / 1000 / phaseMs;
const rssRuntime = process.memoryUsage().rss;
const taskMetrics = runner.taskMetrics()[0]!.metrics;
const transactionsInPhase = taskMetrics.transactionsCommitted;

// ---- latency at a steady rate ----
const loaded = await master.load(LATENCY_RATE, LATENCY_SECONDS);
await waitCommitted(ITEMS + loaded.loaded, 'latency phase');
const masterRss = await master.rss();
await w.stop();
await master.stop();

// ---- raw producer ceiling after the pipeline ----
const rawAfter = rawBefore && await rawProducer(sample, rawTotal);
const runtimeCpuPerEvent = (cpu.user + cpu.system) / (ITEMS - first);
const masterCpuPerEvent = masterCpuMicros / (ITEMS - first);

const sorted = latency.samples.sort((a, b) => a - b);
/** task.thread.enable: the Kafka thread's proxy hears of each committed record (its key is the event's Kafka key). */
function recordThreadedLatency(log: LatencyLog): void {
  const inner = ThreadedTask.prototype.commitRecord;
  const nowMicros = (): number => (performance.timeOrigin + performance.now()) * 1000;
  ThreadedTask.prototype.commitRecord = function (this: ThreadedTask, record) {
    const key = Buffer.isBuffer(record.key) ? record.key.toString() : '';
    const at = key.indexOf(':lat-');
    if (at >= 0) log.samples.push((nowMicros() - Number(key.slice(at + 5))) / 1000);
    else if (!log.sample && Buffer.isBuffer(record.value)) log.sample = { key, value: record.value.toString() };
    return inner.call(this, record);
  };
}
console.log(`items=${ITEMS} poll.max.records=${POLL_MAX} event value≈${sample.value.length}B (committed: ${latency.sample?.value.length}B) partitions=3`);
if (rawBefore && rawAfter) {
  const raw = (rawBefore.rate + rawAfter.rate) / 2;
  const rawCpuPerEvent = (rawBefore.cpuMicrosPerRecord + rawAfter.cpuMicrosPerRecord) / 2;
  console.log(`raw kafkajs transactional producer (same event JSON, ${POLL_MAX}/txn + 1 offset record): ${Math.round(raw)} events/s (before ${Math.round(rawBefore.rate)}, after ${Math.round(rawAfter.rate)}), ${rawCpuPerEvent.toFixed(1)} µs CPU per event`);
  // What bounds the ceiling: a process well below one busy core waits on the broker (one request in flight).
  const mean = (f: (r: RawRate) => number): number => (f(rawBefore) + f(rawAfter)) / 2;
  console.log(`  raw producer: ${(mean((r) => r.cpuShare) * 100).toFixed(0)}% of one core busy, ${mean((r) => r.transactionMs).toFixed(1)} ms per transaction, ${(mean((r) => r.commitShare) * 100).toFixed(0)}% of the time awaiting commits; the rest is sends (its own CPU, then the broker's append of each ≤ 1 MiB request)`);
  printPipeline();
  console.log(`ratio pipeline/raw: ${(pipelineRate / raw).toFixed(2)} (target ≥ 0.80)`);
  // On a loaded machine the rates follow the CPU share each process gets; CPU per event does not.
  console.log(`CPU per event raw/runtime: ${(rawCpuPerEvent / runtimeCpuPerEvent).toFixed(2)}; raw/(runtime + master): ${(rawCpuPerEvent / (runtimeCpuPerEvent + masterCpuPerEvent)).toFixed(2)}`);
} else {
  console.log('raw kafkajs transactional producer: skipped (SKIP_RAW=1)');
  printPipeline();
}
function printPipeline(): void {
  console.log(`test master → pika-connect runtime → Kafka:     ${Math.round(pipelineRate)} events/s (target ≥ 100000)`);
  console.log(`runtime process CPU during the throughput phase: ${(runtimeCpuShare * 100).toFixed(0)}% of one core (${runtimeCpuPerEvent.toFixed(1)} µs CPU per event); test master process ${masterCpuPerEvent.toFixed(1)} µs CPU per event`);
  const events = ITEMS - first;
  console.log(`  ${transactionsInPhase} transactions by the end of the throughput phase, ${Math.round(ITEMS / transactionsInPhase)} records each on average; ${taskMetrics.polls} polls of the runner`);
  const mainPerEvent = mainCpuMicros / events;
  console.log(`  mode ${THREAD ? 'task.thread.enable=true' : 'inline'}: main thread ${mainPerEvent.toFixed(1)} µs CPU per event (${((mainCpuMicros / 1000 / phaseMs) * 100).toFixed(0)}% of one core), other threads (task thread, GC helpers, libuv) ${(runtimeCpuPerEvent - mainPerEvent).toFixed(1)} µs`);
}
console.log(`latency master write → Kafka commit at ${LATENCY_RATE}/s for ${LATENCY_SECONDS} s (${sorted.length} events, written ${loaded.loaded} in ${(loaded.ms / 1000).toFixed(1)} s): p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`);
console.log(`RSS: runtime process ${mb(rssRuntime)} MiB after the throughput phase, ${mb(process.memoryUsage().rss)} MiB at the end; test master process ${mb(masterRss)} MiB`);
process.exit(0);
