import type { SourceOffset, SourcePartition } from '../api/record.ts';

/**
 * Kafka Connect's offset record layout: key = JSON `["<connector>", {<source partition>}]`, value = JSON of the
 * source offset, a null value (tombstone) resets the partition. Map keys are written sorted so that the same source
 * partition always yields the same key bytes — compaction depends on it.
 */
export function encodeOffsetKey(connector: string, partition: SourcePartition): Buffer {
  return Buffer.from(JSON.stringify([connector, sortedObject(partition)]));
}

export function encodeOffsetValue(offset: SourceOffset | null): Buffer | null {
  return offset === null ? null : Buffer.from(JSON.stringify(sortedObject(offset)));
}

export interface DecodedOffsetKey {
  connector: string;
  partition: SourcePartition;
}

/** Returns undefined for keys that are not in Kafka Connect's layout (other writers share offsets topics). */
export function decodeOffsetKey(bytes: Buffer | null): DecodedOffsetKey | undefined {
  if (!bytes) return undefined;
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string') return undefined;
    const partition = parsed[1];
    if (partition === null || typeof partition !== 'object' || Array.isArray(partition)) return undefined;
    return { connector: parsed[0], partition: partition as SourcePartition };
  } catch {
    return undefined;
  }
}

export function decodeOffsetValue(bytes: Buffer | null): SourceOffset | null {
  if (!bytes) return null;
  const parsed: unknown = JSON.parse(bytes.toString('utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`offset value is not a JSON object: ${bytes.toString('utf8').slice(0, 200)}`);
  }
  return parsed as SourceOffset;
}

/** Stable identity of a source partition inside one connector. */
export function partitionId(partition: SourcePartition): string {
  return JSON.stringify(sortedObject(partition));
}

function sortedObject<T extends Record<string, unknown>>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) out[key] = obj[key];
  return out as T;
}
