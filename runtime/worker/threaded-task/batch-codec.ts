// One poll's converted records packed into a single ArrayBuffer, so a batch crosses from the task's thread to the
// Kafka thread as one transfer instead of a structured clone of every key and value. Layout (little-endian):
//   u32 record count, then per record: u8 kind, u32 source partition index, and
//   kind 0 (write): u32 topic index, i32 Kafka partition (-1: unset), f64 timestamp (NaN: unset), bytes key,
//                   bytes value, bytes partition key, u16 header count, (string name, bytes value) per header
//   kind 1 (dropped, nothing written, offset still advances): string reason
// bytes = i32 length (-1: null) + data; string = u32 length + UTF-8. Topic names travel beside the buffer.
import type { OutgoingRecord } from '../../kafka/types.ts';

/** What becomes of one polled record: written (to its topic or the dead-letter topic) or dropped with a reason. */
export type BatchEntry = { record: OutgoingRecord; droppedBy?: undefined } | { record?: undefined; droppedBy: string };

export interface PackedBatch {
  buffer: ArrayBuffer;
  topics: string[];
}

export interface UnpackedBatch {
  entries: BatchEntry[];
  /** Per entry, the index of its source partition in the batch's partition table. */
  partitionIndexes: Uint32Array;
}

const WRITE = 0;
const DROPPED = 1;

function bytesSize(b: Buffer | null | undefined): number {
  return 4 + (b ? b.length : 0);
}

function headerBytes(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v) : v;
}

export function packBatch(entries: readonly BatchEntry[], partitionIndexes: ArrayLike<number>): PackedBatch {
  if (partitionIndexes.length !== entries.length) throw new Error(`packBatch: ${entries.length} entries but ${partitionIndexes.length} partition indexes`);
  const topics: string[] = [];
  const topicIndex = new Map<string, number>();
  let size = 4;
  for (const e of entries) {
    size += 5;
    if (e.record === undefined) {
      size += 4 + Buffer.byteLength(e.droppedBy);
      continue;
    }
    const r = e.record;
    if (!topicIndex.has(r.topic)) {
      topicIndex.set(r.topic, topics.length);
      topics.push(r.topic);
    }
    size += 4 + 4 + 8 + bytesSize(r.key) + bytesSize(r.value) + bytesSize(r.partitionKey) + 2;
    if (r.headers) {
      for (const [name, value] of Object.entries(r.headers)) size += 4 + Buffer.byteLength(name) + 4 + (typeof value === 'string' ? Buffer.byteLength(value) : value.length);
    }
  }
  const buffer = new ArrayBuffer(size);
  const buf = Buffer.from(buffer);
  let pos = buf.writeUInt32LE(entries.length, 0);
  const writeBytes = (b: Buffer | null | undefined): void => {
    if (!b) {
      pos = buf.writeInt32LE(-1, pos);
      return;
    }
    pos = buf.writeInt32LE(b.length, pos);
    pos += b.copy(buf, pos);
  };
  const writeString = (s: string): void => {
    const len = buf.write(s, pos + 4);
    buf.writeUInt32LE(len, pos);
    pos += 4 + len;
  };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    pos = buf.writeUInt8(e.record === undefined ? DROPPED : WRITE, pos);
    pos = buf.writeUInt32LE(partitionIndexes[i]!, pos);
    if (e.record === undefined) {
      writeString(e.droppedBy);
      continue;
    }
    const r = e.record;
    pos = buf.writeUInt32LE(topicIndex.get(r.topic)!, pos);
    pos = buf.writeInt32LE(r.partition ?? -1, pos);
    pos = buf.writeDoubleLE(r.timestamp ?? Number.NaN, pos);
    writeBytes(r.key);
    writeBytes(r.value);
    writeBytes(r.partitionKey);
    const headers = r.headers ? Object.entries(r.headers) : [];
    if (headers.length > 0xffff) throw new Error(`packBatch: a record for ${r.topic} has ${headers.length} headers (at most 65535)`);
    pos = buf.writeUInt16LE(headers.length, pos);
    for (const [name, value] of headers) {
      writeString(name);
      writeBytes(headerBytes(value));
    }
  }
  if (pos !== size) throw new Error(`packBatch: wrote ${pos} of ${size} bytes`);
  return { buffer, topics };
}

/** Keys, values and header values are views into `buffer` (no copies). Throws on a malformed buffer. */
export function unpackBatch(buffer: ArrayBuffer, topics: readonly string[]): UnpackedBatch {
  const buf = Buffer.from(buffer);
  const fail = (what: string): never => {
    throw new Error(`unpackBatch: malformed batch (${what} at byte ${pos} of ${buf.length})`);
  };
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > buf.length) fail(`truncated, ${n} bytes wanted`);
  };
  const readBytes = (): Buffer | null => {
    need(4);
    const len = buf.readInt32LE(pos);
    pos += 4;
    if (len === -1) return null;
    if (len < 0) fail(`negative length ${len}`);
    need(len);
    const out = buf.subarray(pos, pos + len);
    pos += len;
    return out;
  };
  const readString = (): string => {
    need(4);
    const len = buf.readUInt32LE(pos);
    pos += 4;
    need(len);
    const s = buf.toString('utf8', pos, pos + len);
    pos += len;
    return s;
  };
  need(4);
  const count = buf.readUInt32LE(0);
  pos = 4;
  const entries: BatchEntry[] = new Array(count);
  const partitionIndexes = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    need(5);
    const kind = buf[pos]!;
    partitionIndexes[i] = buf.readUInt32LE(pos + 1);
    pos += 5;
    if (kind === DROPPED) {
      entries[i] = { droppedBy: readString() };
      continue;
    }
    if (kind !== WRITE) fail(`unknown record kind ${kind}`);
    need(16);
    const topic = topics[buf.readUInt32LE(pos)] ?? fail(`topic index ${buf.readUInt32LE(pos)} of ${topics.length}`);
    const partition = buf.readInt32LE(pos + 4);
    const timestamp = buf.readDoubleLE(pos + 8);
    pos += 16;
    const key = readBytes();
    const value = readBytes();
    const partitionKey = readBytes();
    const record: OutgoingRecord = { topic, key, value };
    if (!Number.isNaN(timestamp)) record.timestamp = timestamp;
    if (partition >= 0) record.partition = partition;
    if (partitionKey) record.partitionKey = partitionKey;
    need(2);
    const headerCount = buf.readUInt16LE(pos);
    pos += 2;
    if (headerCount > 0) {
      const headers: Record<string, Buffer> = {};
      for (let h = 0; h < headerCount; h++) {
        const name = readString();
        headers[name] = readBytes() ?? Buffer.alloc(0);
      }
      record.headers = headers;
    }
    entries[i] = { record };
  }
  if (pos !== buf.length) fail('trailing bytes');
  return { entries, partitionIndexes };
}
