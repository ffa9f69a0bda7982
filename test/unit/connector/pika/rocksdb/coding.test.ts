import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteReader, readF64 } from '../../../../../connector/pika/rocksdb/coding.ts';

/** LEB128 of a non-negative bigint, as RocksDB's PutVarint64 writes it. */
function varint(v: bigint): Uint8Array {
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return Uint8Array.from(out);
}

describe('varints as RocksDB writes them', () => {
  it('varint64 reads every value up to 2^53 - 1 exactly and refuses larger ones', () => {
    for (const v of [0n, 1n, 127n, 128n, 16_383n, 16_384n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 35n + 12_345n, 2n ** 53n - 1n]) {
      const r = new ByteReader(varint(v));
      assert.equal(r.varint64(), Number(v));
      assert.equal(r.remaining, 0);
    }
    for (const v of [2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      assert.throws(() => new ByteReader(varint(v)).varint64(), /exceeds 2\^53/);
    }
    assert.throws(() => new ByteReader(Uint8Array.from([0x80, 0x80])).varint64(), /unexpected end of data/);
  });

  it('varsigned64 undoes zig-zag encoding (index block size deltas)', () => {
    for (const v of [0, -1, 1, -2, 2, -64, 64, -4097, 123_456_789, -123_456_789, 2 ** 52 - 1, -(2 ** 52)]) {
      const zigzag = v >= 0 ? BigInt(v) * 2n : BigInt(-v) * 2n - 1n;
      assert.equal(new ByteReader(varint(zigzag)).varsigned64(), v);
    }
  });
});

describe('readF64', () => {
  it('reads little-endian doubles exactly, at any offset', () => {
    for (const v of [0, -0, 1.5, -3, Math.PI, 5e-324, -Number.MAX_VALUE, Infinity, -Infinity, 0.1 + 0.2]) {
      const buf = new Uint8Array(11);
      new DataView(buf.buffer).setFloat64(3, v, true);
      assert.ok(Object.is(readF64(buf, 3), v), `${v}`);
    }
  });
});
