// Kafka keys for Pika events.
// - Record key: "<db>:<data_type>:" + exact key bytes; "<db>" alone for keyless commands (flushdb).
// - Partition key: "<db>:" + exact key bytes ("<db>" for keyless), i.e. independent of data_type, so every event
//   of one key (set, then del, then hset…) lands on the same partition and keeps its order.
import type { PikaEvent } from './event.ts';

/** `prefix` + the key's exact bytes (`key`, or key_b64 decoded when the caller has no bytes); "<db>" when keyless. */
function withKey(prefix: string, event: PikaEvent, key: Buffer | undefined): Buffer {
  if (event.key_b64 === null) return Buffer.from(String(event.db));
  const bytes = key ?? Buffer.from(event.key_b64, 'base64');
  const out = Buffer.allocUnsafe(prefix.length + bytes.length);
  out.write(prefix, 0, 'latin1');
  bytes.copy(out, prefix.length);
  return out;
}

/** `key`: the event's exact key bytes if at hand (they must equal key_b64 decoded). */
export function eventKafkaKey(event: PikaEvent, key?: Buffer): Buffer {
  return withKey(`${event.db}:${event.data_type}:`, event, key);
}

export function eventPartitionKey(event: PikaEvent, key?: Buffer): Buffer {
  return withKey(`${event.db}:`, event, key);
}
