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

export interface RawRate {
  /** Records/s. */
  rate: number;
  /** CPU time of this process per record (µs). */
  cpuMicrosPerRecord: number;
}

/**
 * The ceiling the runtime is measured against: a bare kafkajs transactional producer with the runtime's producer
 * settings (idempotent, one request in flight, acks=all, no compression, the same retry back-off) sending `total`
 * records in transactions of `batchSize` into a fresh 3-partition topic — each transaction also holding one offset
 * record for a compacted topic in the same request, as every transaction of the runtime does. Timed from the end of
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
  for (let sent = 0; sent < total; sent += batchSize) {
    const txn = await producer.transaction();
    const offset = { key: `["bench-raw",{"source":"${id}"}]`, value: `{"position":${sent + batchSize}}` };
    await txn.sendBatch({ topicMessages: [{ topic, messages: batch(sent) }, { topic: offsetsTopic, messages: [offset] }], acks: -1, compression: CompressionTypes.None });
    await txn.commit();
    if (sent === 0) {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const rate = (total - batchSize) / ((performance.now() - t0) / 1000);
  await producer.disconnect();
  return { rate, cpuMicrosPerRecord: (cpu.user + cpu.system) / (total - batchSize) };
}
