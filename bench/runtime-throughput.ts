/**
 * Runtime throughput against the ceiling of a raw kafkajs transactional producer, measured in one run on the same
 * broker with the same records and batch size. Prints records/s of both, the ratio (target ≥ 0.8) and RSS.
 *
 *   KAFKA_BOOTSTRAP=127.0.0.1:19092 npx tsx bench/runtime-throughput.ts [records] [batch]
 * (`bash scripts/bench.sh` starts a broker and runs every benchmark.)
 */
import { Kafka, logLevel } from 'kafkajs';
import { rawTransactionalRate } from './helpers/raw-producer.ts';
import { randomUUID } from 'node:crypto';
import { parseConnectorProps, parseWorkerProps } from '../runtime/config/index.ts';
import { bundledPlugins } from '../runtime/bundled-plugins.ts';
import { createRootLogger } from '../runtime/util/logger.ts';
import { Worker } from '../runtime/worker/worker.ts';

const bootstrap = process.env.KAFKA_BOOTSTRAP;
if (!bootstrap) throw new Error('set KAFKA_BOOTSTRAP (or run bash scripts/bench.sh)');
const TOTAL = Number(process.argv[2] ?? 200_000);
const BATCH = Number(process.argv[3] ?? 1000);
const STREAMS = 4;
const PAYLOAD = 'x'.repeat(100);
const mb = (n: number) => (n / 1048576).toFixed(0);

async function rawProducer(kafka: Kafka): Promise<number> {
  return (await rawTransactionalRate(kafka, TOTAL, BATCH, (start) => Array.from({ length: BATCH }, (_, i) => {
    const seq = start + i;
    const stream = seq % STREAMS;
    return { key: `key-${(stream * 7919 + seq) % 1000}`, value: JSON.stringify({ stream, seq: Math.floor(seq / STREAMS), payload: PAYLOAD }) };
  }))).rate;
}

async function runtime(): Promise<number> {
  const plugins = bundledPlugins();
  const worker = parseWorkerProps({
    'bootstrap.servers': bootstrap!,
    'offset.storage.topic': `bench-offsets-${randomUUID().slice(0, 8)}`,
    'offset.storage.partitions': '1',
    'offset.checkpoint.dir': '.cache/bench/checkpoints',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
  }, { source: 'bench worker' });
  const connector = parseConnectorProps({
    name: `bench-${randomUUID().slice(0, 8)}`,
    'connector.class': 'synthetic',
    'tasks.max': '1',
    'synthetic.topic': `bench-runtime-${randomUUID().slice(0, 8)}`,
    'synthetic.streams': String(STREAMS),
    'synthetic.batch.size': String(BATCH),
    'synthetic.record.bytes': '100',
    'synthetic.max.records': String(TOTAL / STREAMS),
    'topic.creation.default.partitions': '3',
  }, (cls) => plugins.connector(cls), { source: 'bench connector' });
  const w = new Worker(worker, plugins, createRootLogger('warn'));
  await w.start([connector]);
  const runner = w.connector(connector.name)!;
  const committed = () => runner.taskMetrics().reduce((n, t) => n + t.metrics.recordsCommitted, 0);
  let t0 = 0;
  let first = 0;
  for (;;) {
    const n = committed();
    if (n > 0 && t0 === 0) { t0 = performance.now(); first = n; }
    if (n >= TOTAL) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const rate = (TOTAL - first) / ((performance.now() - t0) / 1000);
  await w.stop();
  return rate;
}

const kafka = new Kafka({ clientId: 'bench', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
const raw = await rawProducer(kafka);
const rssAfterRaw = process.memoryUsage().rss;
const rt = await runtime();
const rssAfterRuntime = process.memoryUsage().rss;
console.log(`records=${TOTAL} batch=${BATCH} value≈${PAYLOAD.length + 40}B partitions=3`);
console.log(`raw kafkajs transactional producer: ${Math.round(raw)} records/s`);
console.log(`pika-connect runtime (synthetic):  ${Math.round(rt)} records/s`);
console.log(`ratio runtime/raw: ${(rt / raw).toFixed(2)} (target ≥ 0.80)`);
console.log(`RSS: after raw ${mb(rssAfterRaw)} MiB, after runtime ${mb(rssAfterRuntime)} MiB`);
