import type { OffsetStorageReader } from '../api/task.ts';
import type { SourceOffset, SourcePartition } from '../api/record.ts';
import { ConnectError } from '../api/errors.ts';
import type { KafkaAdmin, KafkaClient, OutgoingRecord } from '../kafka/types.ts';
import { decodeOffsetKey, decodeOffsetValue, encodeOffsetKey, encodeOffsetValue, partitionId } from './offset-codec.ts';

export interface OffsetEntry {
  partition: SourcePartition;
  offset: SourceOffset;
}

/** The committed offsets of one connector as read from the offsets topic (the source of truth). */
export class ConnectorOffsets implements OffsetStorageReader {
  private readonly entries = new Map<string, OffsetEntry>();

  offset(partition: SourcePartition): SourceOffset | undefined {
    return this.entries.get(partitionId(partition))?.offset;
  }

  all(): OffsetEntry[] {
    return [...this.entries.values()];
  }

  apply(partition: SourcePartition, offset: SourceOffset | null): void {
    const id = partitionId(partition);
    if (offset === null) this.entries.delete(id);
    else this.entries.set(id, { partition, offset });
  }
}

/** Reads one connector's committed offsets: every record of the offsets topic, last write per key wins. */
export async function loadConnectorOffsets(client: KafkaClient, topic: string, connector: string): Promise<ConnectorOffsets> {
  const offsets = new ConnectorOffsets();
  for (const record of await client.readCommitted(topic)) {
    const key = decodeOffsetKey(record.key);
    if (!key || key.connector !== connector) continue;
    let value: SourceOffset | null;
    try {
      value = decodeOffsetValue(record.value);
    } catch (error) {
      throw new ConnectError(`Offsets topic ${topic} holds an unreadable offset for ${connector} at ${record.partition}/${record.offset}: ${(error as Error).message}`, { code: 'BAD_OFFSET', stage: 'offsets', cause: error });
    }
    offsets.apply(key.partition, value);
  }
  return offsets;
}

export function offsetRecords(topic: string, connector: string, offsets: Iterable<OffsetEntry>): OutgoingRecord[] {
  const out: OutgoingRecord[] = [];
  for (const { partition, offset } of offsets) {
    out.push({ topic, key: encodeOffsetKey(connector, partition), value: encodeOffsetValue(offset) });
  }
  return out;
}

/** Creates the offsets topic compacted when missing; refuses a topic that would lose offsets (not compacted). */
export async function ensureOffsetsTopic(admin: KafkaAdmin, spec: { name: string; partitions: number; replicationFactor: number }): Promise<void> {
  const existing = await admin.existingTopics([spec.name]);
  if (!existing.has(spec.name)) {
    await admin.createTopic({ name: spec.name, partitions: spec.partitions, replicationFactor: spec.replicationFactor, configs: { 'cleanup.policy': 'compact' } });
    return;
  }
  const config = await admin.topicConfig(spec.name, ['cleanup.policy']);
  const policy = config['cleanup.policy'] ?? '';
  if (!policy.split(',').includes('compact')) {
    throw new ConnectError(`Offsets topic ${spec.name} has cleanup.policy=${policy || '(unknown)'}; it must be compacted or old offsets are deleted and connectors restart from scratch. Fix: kafka-configs --alter --entity-type topics --entity-name ${spec.name} --add-config cleanup.policy=compact`, { code: 'OFFSETS_TOPIC_NOT_COMPACTED', stage: 'offsets' });
  }
}
