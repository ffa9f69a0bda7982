// patches/kafkajs+2.2.4.patch replaces kafkajs's produce encoding of uncompressed record batches with a one-pass
// encoder and its CRC-32C with a slicing-by-8 one. What goes to the broker must not change: these tests compare the
// patched path with kafkajs's own record/record-batch encoders, byte for byte, and the CRC with a bitwise reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);
type Enc = { buffer: Buffer; size(): number };
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => Enc & { writeInt32(n: number): Enc & { writeInt32(n: number): { writeEncoder(e: Enc): Enc } } };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => Enc;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<Enc> };
const encodeUncompressedPartition = require('kafkajs/src/protocol/recordBatch/v0/uncompressedPartition.js') as (o: object) => Enc | undefined;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: number): unknown };

function bitwiseCrc32C(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

test('CRC-32C: the check value of "123456789" and the bitwise definition on buffers of every length mod 8', () => {
  assert.equal(crc32C(Buffer.from('123456789')), 0xe3069283);
  for (let length = 0; length < 300; length++) {
    const bytes = randomBytes(length);
    assert.equal(crc32C(bytes), bitwiseCrc32C(bytes), `length ${length}`);
  }
});

const rnd = (n: number): number => Math.floor(Math.random() * n);

type Message = { key?: Buffer | string | null; value: Buffer | string | null; timestamp?: string | number };

function randomMessages(count: number): Message[] {
  const base = 1_700_000_000_000 + rnd(1000);
  return Array.from({ length: count }, (): Message => {
    const k = rnd(4);
    const v = rnd(4);
    const t = rnd(3);
    const m: Message = {
      key: k === 0 ? null : k === 1 ? `k${rnd(1e6)}é` : randomBytes(rnd(300)),
      value: v === 0 ? null : v === 1 ? 'v'.repeat(rnd(500)) : randomBytes(v === 3 ? 20_000 + rnd(1000) : rnd(900)),
    };
    if (t === 1) m.timestamp = String(base + rnd(5000));
    else if (t === 2) m.timestamp = base + rnd(100_000);
    return m;
  });
}

/** kafkajs's stock encoding of one partition's data (produce v3 partitionsEncoder, uncompressed). */
async function stockPartition(partition: number, messages: Message[], batch: { producerId: unknown; producerEpoch: number; firstSequence: number; transactional: boolean }, dateNow: number): Promise<Buffer> {
  const timestamps = messages.map((m) => m.timestamp).filter((t) => t != null).sort() as Array<string | number>;
  const all = timestamps.length === 0 ? [dateNow] : timestamps;
  const firstTimestamp = all[0]!;
  const records = messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: Number(m.timestamp || dateNow) - Number(firstTimestamp) }));
  const recordBatch = await RecordBatch({ compression: 0, records, firstTimestamp, maxTimestamp: all[all.length - 1], ...batch, lastOffsetDelta: records.length - 1 });
  return new Encoder().writeInt32(partition).writeInt32(recordBatch.size()).writeEncoder(recordBatch).buffer;
}

test('one-pass uncompressed record batches are byte-identical to kafkajs\'s own encoders', async () => {
  for (let round = 0; round < 200; round++) {
    const messages = randomMessages(1 + rnd(round % 20 === 0 ? 1500 : 40));
    const batch = { producerId: Long.fromValue(rnd(1e9)), producerEpoch: rnd(100), firstSequence: rnd(1e6), transactional: round % 2 === 0 };
    const dateNow = Date.now();
    const timestamps = messages.map((m) => m.timestamp).filter((t) => t != null).sort() as Array<string | number>;
    const all = timestamps.length === 0 ? [dateNow] : timestamps;
    const fast = encodeUncompressedPartition({
      partition: round % 5, messages, firstTimestamp: all[0], maxTimestamp: all[all.length - 1],
      timestampOf: (m: Message) => m.timestamp || dateNow, ...batch,
    });
    assert.ok(fast, 'header-less records of bytes/strings/null take the one-pass path');
    assert.deepEqual(fast.buffer, await stockPartition(round % 5, messages, batch, dateNow), `round ${round}`);
  }
});

test('records with headers are left to kafkajs\'s own encoders', () => {
  const encoded = encodeUncompressedPartition({
    partition: 0, messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }], firstTimestamp: 1, maxTimestamp: 1,
    timestampOf: () => 1, producerId: Long.fromValue(1), producerEpoch: 0, firstSequence: 0, transactional: true,
  });
  assert.equal(encoded, undefined);
});
