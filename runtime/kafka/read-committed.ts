import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ConnectError } from '../api/errors.ts';
import { docRef } from '../api/doc-ref.ts';
import type { CommittedRecord } from './types.ts';

/**
 * Reads every committed record of a topic, from each partition's start to its high watermark as seen at the call
 * (read_committed). Transactional partitions end with control markers that consumers never see as records, so
 * progress is tracked by the last offset of each fetched batch (control markers and aborted records included).
 *
 * The end is the high watermark, not the last stable offset: another producer's transaction still open (or not yet
 * aborted after a crash) holds the last stable offset below records committed after it began, such as the offsets a
 * restarting task committed last. Stopping there would resume that task from older offsets and write its last
 * transaction again. Reading to the high watermark waits until every transaction open at the call is decided.
 */
export async function readCommittedTopic(kafka: Kafka, topic: string, timeoutMs: number): Promise<CommittedRecord[]> {
  const admin = kafka.admin({ readUncommitted: true });
  await admin.connect();
  let targets: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    targets = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  if (targets.size === 0) return [];

  const groupId = `pika-connect-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
  const records: CommittedRecord[] = [];
  const remaining = new Map(targets);
  const nextOffset = new Map<number, bigint>();
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const reached = (partition: number, lastOffset: string): void => {
    const target = remaining.get(partition);
    if (target !== undefined && BigInt(lastOffset) + 1n >= target) {
      remaining.delete(partition);
      if (remaining.size === 0) finish();
    }
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    if (e.payload.topic === topic) reached(e.payload.partition, e.payload.lastOffset);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // Resolving advances the in-memory position; without it kafkajs fetches the same batch again and again.
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const target = targets.get(batch.partition);
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          const next = nextOffset.get(batch.partition) ?? 0n;
          if (target === undefined || offset >= target || offset < next) continue;
          nextOffset.set(batch.partition, offset + 1n);
          const headers: Record<string, Buffer> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) if (Buffer.isBuffer(v)) headers[k] = v;
          records.push({ topic, partition: batch.partition, offset, key: m.key, value: m.value, headers, timestamp: Number(m.timestamp) });
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectError(`Timed out after ${timeoutMs} ms reading topic ${topic} to its end (read_committed); partitions still behind: ${[...remaining.keys()].join(',')}. Another producer's transaction open since before the read keeps it from ending ${docRef('taskFailed')}`, { code: 'READ_TIMEOUT', retriable: true })), timeoutMs);
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
    await deleteGroupQuietly(kafka, groupId);
  }
  records.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  return records;
}

async function deleteGroupQuietly(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // an empty group expires on its own; nothing is lost if deletion fails
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
