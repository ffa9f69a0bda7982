import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ConnectError } from '../api/errors.ts';
import { docRef } from '../api/doc-ref.ts';
import type { CommittedRecord } from './types.ts';
import { TransactionOutcomes } from './transaction-outcomes.ts';

/** What kafkajs keeps of a fetched message; `messagesWithinOffset` (a Batch field) still holds the control records. */
interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, unknown>;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

function rawMessages(batch: object): RawMessage[] {
  const raw = (batch as { messagesWithinOffset?: RawMessage[] }).messagesWithinOffset;
  if (!Array.isArray(raw)) throw new ConnectError('kafkajs internals changed: a fetched batch has no messagesWithinOffset (control records are needed to read transactions)', { code: 'ILLEGAL_STATE' });
  return raw;
}

/**
 * Reads every committed record of a topic, from each partition's start to its high watermark as seen at the call.
 *
 * It reads read_uncommitted and decides transactions from their markers (transaction-outcomes.ts) rather than
 * reading read_committed: a read_committed read ends at the last stable offset, which another producer's open
 * transaction (another task's, or one left undecided on the broker) holds below records committed after it began,
 * such as the offsets a restarting task committed last. Stopping there resumed that task from older offsets, so it
 * wrote its last transaction again; waiting for the last stable offset to pass can block for as long as the other
 * transaction stays open. Every transaction of the reading task is decided before it reads (fencing aborts or
 * completes it), so what is left undecided belongs to other producers and is left out, as read_committed would.
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
  const consumer = kafka.consumer({ groupId, readUncommitted: true, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
  const outcomes = new Map<number, TransactionOutcomes<CommittedRecord>>();
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
        let partitionOutcomes = outcomes.get(batch.partition);
        if (!partitionOutcomes) outcomes.set(batch.partition, (partitionOutcomes = new TransactionOutcomes()));
        for (const m of rawMessages(batch)) {
          const offset = BigInt(m.offset);
          const next = nextOffset.get(batch.partition) ?? 0n;
          if (target === undefined || offset >= target || offset < next) continue;
          nextOffset.set(batch.partition, offset + 1n);
          const { producerId, inTransaction } = m.batchContext;
          if (m.isControlRecord) {
            partitionOutcomes.control(producerId, m.key);
            continue;
          }
          const headers: Record<string, Buffer> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) if (Buffer.isBuffer(v)) headers[k] = v;
          const record: CommittedRecord = { topic, partition: batch.partition, offset, key: m.key, value: m.value, headers, timestamp: Number(m.timestamp) };
          partitionOutcomes.record(offset, producerId, inTransaction, record);
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectError(`Timed out after ${timeoutMs} ms reading topic ${topic} to its end; partitions still behind: ${[...remaining].map(([p, end]) => `${p} (at ${nextOffset.get(p) ?? 0n} of ${end})`).join(', ')}. Check that the brokers answer fetches ${docRef('taskFailed')}`, { code: 'READ_TIMEOUT', retriable: true })), timeoutMs);
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
  const records: CommittedRecord[] = [];
  for (const partition of [...outcomes.keys()].sort((a, b) => a - b)) for (const r of outcomes.get(partition)!.committed()) records.push(r);
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
