// Kafka keys for Pika events.
// - Record key: "<db>:<data_type>:" + exact key bytes; "<db>" alone for keyless commands (flushdb).
// - Partition key: "<db>:" + exact key bytes ("<db>" for keyless), i.e. independent of data_type, so every event
//   of one key (set, then del, then hset…) lands on the same partition and keeps its order.
import type { PikaEvent } from './event.ts';

/** Raw key bytes of events built from binlog items, so the keys need not be decoded back from key_b64. */
const keyBytes = new WeakMap<PikaEvent, Buffer>();

/** Records the exact key bytes of `event` (its key_b64 decoded), for the key functions below. */
export function rememberKeyBytes(event: PikaEvent, key: Buffer): void {
  keyBytes.set(event, key);
}

function withKey(prefix: string, event: PikaEvent): Buffer {
  if (event.key_b64 === null) return Buffer.from(String(event.db));
  const key = keyBytes.get(event);
  if (!key) return Buffer.concat([Buffer.from(prefix), Buffer.from(event.key_b64, 'base64')]);
  const out = Buffer.allocUnsafe(prefix.length + key.length);
  out.write(prefix, 0, 'latin1');
  key.copy(out, prefix.length);
  return out;
}

export function eventKafkaKey(event: PikaEvent): Buffer {
  return withKey(`${event.db}:${event.data_type}:`, event);
}

export function eventPartitionKey(event: PikaEvent): Buffer {
  return withKey(`${event.db}:`, event);
}
