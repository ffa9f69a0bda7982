import { createRequire } from 'node:module';
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

// kafkajs's Java-compatible murmur2 (the same hash the Java client's default partitioner uses for keys).
const require = createRequire(import.meta.url);
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

/** Set on a kafkajs message object to partition by these bytes instead of the message key. */
export const PARTITION_KEY = Symbol('pika-connect.partitionKey');

const toPositive = (x: number): number => x & 0x7fffffff;

export function partitionFor(bytes: Buffer, numPartitions: number): number {
  return toPositive(murmur2(bytes)) % numPartitions;
}

/**
 * Explicit partition, else murmur2 of the record's partition key, else murmur2 of the message key (as Java),
 * else round robin over available partitions.
 */
export const partitionKeyPartitioner: ICustomPartitioner = () => {
  let counter = 0;
  return ({ partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    const numPartitions = partitionMetadata.length;
    const pk = (message as unknown as Record<symbol, Buffer | undefined>)[PARTITION_KEY];
    if (pk) return partitionFor(pk, numPartitions);
    if (message.key !== null && message.key !== undefined) {
      const key = typeof message.key === 'string' ? Buffer.from(message.key) : message.key;
      return partitionFor(key, numPartitions);
    }
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    const pool = available.length ? available : partitionMetadata;
    return pool[toPositive(counter++) % pool.length]!.partitionId;
  };
};
