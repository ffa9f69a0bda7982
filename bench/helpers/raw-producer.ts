import { randomUUID } from 'node:crypto';
import { CompressionTypes, type Kafka, type Message } from 'kafkajs';
import { partitionKeyPartitioner } from '../../runtime/kafka/partitioner.ts';

export async function createBenchTopic(kafka: Kafka, topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    waitForLeaders: true,
  });
  await admin.disconnect();
}

/** As runtime/kafka/kafkajs-client.ts: requests of at most 1 MiB − 64 KiB, one after the other. */
const MAX_REQUEST_BYTES = 1_048_576 - 64 * 1024;

function requestChunks(messages: Message[]): Message[][] {
  const chunks: Message[][] = [];
  let chunk: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = 32 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
    if (chunk.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

export interface RawRate {
  /** Records/s. */
  rate: number;
  /** CPU time of this process per record (µs). */
  cpuMicrosPerRecord: number;
  /** This process's CPU time over the wall time (1 = one core busy): well below 1 = waiting on the broker. */
  cpuShare: number;
  /** Share of the wall time spent awaiting commits (EndTxn round trips, markers included). */
  commitShare: number;
  /** Mean wall time of one transaction (ms). */
  transactionMs: number;
}

/**
 * The ceiling the runtime is measured against: a bare kafkajs transactional producer with the runtime's producer
 * settings (idempotent, one request in flight, acks=all, no compression, the same retry back-off) sending `total`
 * records in transactions of `batchSize` into a fresh 3-partition topic — each transaction also holding one offset
 * record for a compacted topic in the last request, as every transaction of the runtime does; split into requests
 * under 1 MiB as the runtime's client splits them. Timed from the end of
 * the first transaction (connection set-up excluded).
 */
export async function rawTransactionalRate(kafka: Kafka, total: number, batchSize: number, batch: (start: number) => Message[]): Promise<RawRate> {
  const id = randomUUID().slice(0, 8);
  const topic = `bench-raw-${id}`;
  const offsetsTopic = `bench-raw-offsets-${id}`;
  await createBenchTopic(kafka, topic, 3);
  await createBenchTopic(kafka, offsetsTopic, 1, { 'cleanup.policy': 'compact' });
  const producer = kafka.producer({
    transactionalId: `bench-raw-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: partitionKeyPartitioner,
    retry: { retries: 10, initialRetryTime: 20, maxRetryTime: 2_000 },
  });
  await producer.connect();
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  let commitMs = 0;
  for (let sent = 0; sent < total; sent += batchSize) {
    const txn = await producer.transaction();
    const offset = { key: `["bench-raw",{"source":"${id}"}]`, value: `{"position":${sent + batchSize}}` };
    const chunks = requestChunks(batch(sent));
    for (let i = 0; i < chunks.length; i++) {
      const topicMessages = [{ topic, messages: chunks[i]! }];
      if (i === chunks.length - 1) topicMessages.push({ topic: offsetsTopic, messages: [offset] });
      await txn.sendBatch({ topicMessages, acks: -1, compression: CompressionTypes.None });
    }
    const commitStart = performance.now();
    await txn.commit();
    if (sent === 0) {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    } else {
      commitMs += performance.now() - commitStart;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const rate = (total - batchSize) / (wallMs / 1000);
  await producer.disconnect();
  const cpuMicros = cpu.user + cpu.system;
  return {
    rate,
    cpuMicrosPerRecord: cpuMicros / (total - batchSize),
    cpuShare: cpuMicros / 1000 / wallMs,
    commitShare: commitMs / wallMs,
    transactionMs: wallMs / ((total - batchSize) / batchSize),
  };
}
