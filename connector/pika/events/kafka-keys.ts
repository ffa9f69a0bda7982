// Kafka keys for Pika events.
// - Record key: "<db>:<data_type>:" + exact key bytes; "<db>" alone for keyless commands (flushdb).
// - Partition key: "<db>:" + exact key bytes ("<db>" for keyless), i.e. independent of data_type, so every event
//   of one key (set, then del, then hset…) lands on the same partition and keeps its order.
import type { PikaEvent } from './event.ts';

function withKey(prefix: string, event: PikaEvent): Buffer {
  if (event.key_b64 === null) return Buffer.from(String(event.db));
  return Buffer.concat([Buffer.from(prefix), Buffer.from(event.key_b64, 'base64')]);
}

export function eventKafkaKey(event: PikaEvent): Buffer {
  return withKey(`${event.db}:${event.data_type}:`, event);
}

export function eventPartitionKey(event: PikaEvent): Buffer {
  return withKey(`${event.db}:`, event);
}
