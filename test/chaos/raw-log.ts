// The log of a topic as the broker stores it: every data record (of committed, aborted and still open transactions)
// with its producer id/epoch, and the transaction markers (control records), read with raw read_uncommitted Fetch
// requests. From the markers each data record gets its fate — what a correct read_committed consumer may show.
// kafkajs 2.2.4 has no public raw fetch; this reaches its private cluster factory and fails loudly if that changes
// shape. It decides fates on its own, not with the runtime's runtime/kafka/transaction-outcomes.ts: it audits it.
import { kafkaClient } from '../helpers/kafka.ts';

export type Fate = 'committed' | 'aborted' | 'open';

export interface RawRecord {
  partition: number;
  offset: number;
  /** "<producerId>/<epoch>": one producer incarnation (kafkajs does not bump the epoch per transaction). */
  producer: string;
  transactional: boolean;
  key: Buffer | null;
  value: Buffer | null;
  fate: Fate;
}

interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  isControlRecord: boolean;
  batchContext: { producerId: string; producerEpoch: number; inTransaction: boolean };
}

interface RawBroker {
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ partitions: Array<{ partition: number; errorCode: number; highWatermark: string; messages: RawMessage[] }> }> }>;
}

interface RawCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>;
  findBroker(options: { nodeId: number }): Promise<RawBroker>;
}

const READ_UNCOMMITTED = 0;
const CONTROL_ABORT = 0;
const CONTROL_COMMIT = 1;

function rawCluster(): RawCluster {
  const kafka = kafkaClient('pika-connect-chaos-raw');
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = factory && (kafka as unknown as Record<symbol, unknown>)[factory];
  if (typeof create !== 'function') throw new Error('kafkajs internals changed: cannot read the raw log');
  return create({ isolationLevel: READ_UNCOMMITTED, allowAutoTopicCreation: false }) as RawCluster;
}

/** Every record of `topic` from offset 0 to the high watermark, with its transaction's fate. */
export async function readRawLog(topic: string): Promise<RawRecord[]> {
  const cluster = rawCluster();
  await cluster.connect();
  const out: RawRecord[] = [];
  try {
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadata();
    for (const { partitionId, leader } of cluster.findTopicPartitionMetadata(topic)) {
      const broker = await cluster.findBroker({ nodeId: leader });
      const pending = new Map<string, RawRecord[]>(); // producer → records of its open transaction
      let next = 0;
      for (;;) {
        const response = await broker.fetch({
          isolationLevel: READ_UNCOMMITTED, maxWaitTime: 100, minBytes: 1, maxBytes: 8 << 20,
          topics: [{ topic, partitions: [{ partition: partitionId, fetchOffset: String(next), maxBytes: 8 << 20 }] }],
        });
        const part = response.responses[0]!.partitions[0]!;
        if (part.errorCode !== 0) throw new Error(`raw fetch ${topic}/${partitionId} at ${next}: error code ${part.errorCode}`);
        const high = Number(part.highWatermark);
        const messages = part.messages.filter((m) => Number(m.offset) >= next);
        for (const m of messages) {
          const producer = `${m.batchContext.producerId}/${m.batchContext.producerEpoch}`;
          if (m.isControlRecord) {
            const type = m.key && m.key.length >= 4 ? m.key.readInt16BE(2) : -1;
            const fate: Fate = type === CONTROL_COMMIT ? 'committed' : type === CONTROL_ABORT ? 'aborted' : 'open';
            // A marker ends every open transaction of that producer id (any epoch: a fenced epoch is aborted by it).
            const pid = m.batchContext.producerId;
            for (const [p, records] of pending) {
              if (p.split('/')[0] !== pid) continue;
              for (const r of records) r.fate = fate;
              pending.delete(p);
            }
          } else {
            const record: RawRecord = {
              partition: partitionId, offset: Number(m.offset), producer, transactional: m.batchContext.inTransaction,
              key: m.key, value: m.value, fate: m.batchContext.inTransaction ? 'open' : 'committed',
            };
            out.push(record);
            if (record.transactional) {
              const list = pending.get(producer) ?? [];
              list.push(record);
              pending.set(producer, list);
            }
          }
        }
        const last = messages.at(-1);
        if (last) next = Number(last.offset) + 1;
        if (next >= high) break;
        if (!last) throw new Error(`raw fetch ${topic}/${partitionId}: no progress at offset ${next} (high watermark ${high})`);
      }
    }
  } finally {
    await cluster.disconnect();
  }
  return out;
}
