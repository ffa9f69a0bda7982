import type { SourceOffset, SourcePartition } from '../api/record.ts';
import type { KafkaClient, OutgoingRecord } from '../kafka/types.ts';
import { encodeOffsetKey, encodeOffsetValue } from '../storage/offset-codec.ts';
import { loadConnectorOffsets, type OffsetEntry } from '../storage/offset-store.ts';
import { HttpError } from './router.ts';

/** One entry of Kafka Connect's offsets API body (KIP-875); a null offset resets the partition. */
export interface OffsetChange {
  partition: SourcePartition;
  offset: SourceOffset | null;
}

export interface OffsetWriteTarget {
  client: KafkaClient;
  topic: string;
  connector: string;
  /** Kafka client id stem of the worker (`client.id`). */
  clientId: string;
  producerOverrides?: Record<string, string>;
}

/** `{"offsets": [{"partition": {...}, "offset": {...}}]}` as Kafka Connect's GET /connectors/{name}/offsets. */
export async function readOffsets(client: KafkaClient, topic: string, connector: string): Promise<{ offsets: OffsetEntry[] }> {
  const offsets = await loadConnectorOffsets(client, topic, connector);
  return { offsets: offsets.all() };
}

/**
 * Writes offset changes to the offsets topic in one transaction (all or nothing), in Kafka Connect's layout.
 * The transactional id `<client.id>-<connector>-offsets` is separate from the tasks' ids: the connector must be
 * stopped so no task writes at the same time.
 */
export async function writeOffsets(target: OffsetWriteTarget, changes: OffsetChange[]): Promise<void> {
  if (changes.length === 0) return;
  const records: OutgoingRecord[] = changes.map((c) => ({
    topic: target.topic,
    key: encodeOffsetKey(target.connector, c.partition),
    value: encodeOffsetValue(c.offset),
  }));
  const transactionalId = `${target.clientId}-${target.connector}-offsets`;
  const producer = target.client.producer({ transactionalId, clientId: transactionalId, overrides: target.producerOverrides ?? {} });
  await producer.connect();
  try {
    await producer.begin();
    try {
      await producer.send(records);
      await producer.commit();
    } catch (error) {
      await producer.abort().catch(() => {});
      throw error;
    }
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

/** Tombstones every committed partition of the connector; returns how many were reset. */
export async function resetOffsets(target: OffsetWriteTarget): Promise<number> {
  const { offsets } = await readOffsets(target.client, target.topic, target.connector);
  await writeOffsets(target, offsets.map((e) => ({ partition: e.partition, offset: null })));
  return offsets.length;
}

/** Validates a PATCH body; every problem is named (400). */
export function parseOffsetChanges(body: unknown): OffsetChange[] {
  const list = (body as { offsets?: unknown } | undefined)?.offsets;
  if (!Array.isArray(list) || list.length === 0) {
    throw new HttpError(400, 'Partitions / offsets need to be provided for an alter offsets request: {"offsets": [{"partition": {...}, "offset": {...} | null}]}');
  }
  const problems: string[] = [];
  const changes: OffsetChange[] = [];
  list.forEach((item: unknown, i) => {
    const entry = item as { partition?: unknown; offset?: unknown } | null;
    const partitionProblem = flatMapProblem(entry?.partition);
    const offsetProblem = entry?.offset === null ? undefined : flatMapProblem(entry?.offset);
    if (partitionProblem) problems.push(`offsets[${i}].partition ${partitionProblem}`);
    if (offsetProblem) problems.push(`offsets[${i}].offset ${offsetProblem} (or null to reset the partition)`);
    if (!partitionProblem && !offsetProblem) changes.push({ partition: entry!.partition as SourcePartition, offset: (entry!.offset ?? null) as SourceOffset | null });
  });
  if (problems.length) throw new HttpError(400, `Invalid offsets: ${problems.join('; ')}`);
  return changes;
}

/** Source partitions and offsets are flat JSON objects of strings, numbers, booleans and nulls. */
function flatMapProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object';
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return `field ${k} must be a string, number, boolean or null`;
  }
  return undefined;
}
