import { randomUUID } from 'node:crypto';
import { CompressionTypes, type Kafka, type Message } from 'kafkajs';

export async function createBenchTopic(kafka: Kafka, topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    waitForLeaders: true,
  });
  await admin.disconnect();
}

/**
 * The ceiling the runtime is measured against: a bare kafkajs transactional producer (idempotent, one request in
 * flight, as the runtime must run it) sending `total` records in transactions of `batchSize`, into a fresh 3-partition
 * topic. Records/s, timed from the end of the first transaction (connection set-up excluded).
 */
export async function rawTransactionalRate(kafka: Kafka, total: number, batchSize: number, batch: (start: number) => Message[]): Promise<number> {
  const topic = `bench-raw-${randomUUID().slice(0, 8)}`;
  await createBenchTopic(kafka, topic, 3);
  const producer = kafka.producer({ transactionalId: `bench-raw-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1, retry: { retries: 10, initialRetryTime: 20 } });
  await producer.connect();
  let t0 = 0;
  for (let sent = 0; sent < total; sent += batchSize) {
    const txn = await producer.transaction();
    await txn.sendBatch({ topicMessages: [{ topic, messages: batch(sent) }], acks: -1, compression: CompressionTypes.None });
    await txn.commit();
    if (sent === 0) t0 = performance.now();
  }
  const rate = (total - batchSize) / ((performance.now() - t0) / 1000);
  await producer.disconnect();
  return rate;
}
