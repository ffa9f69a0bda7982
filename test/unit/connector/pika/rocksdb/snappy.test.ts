import assert from 'node:assert/strict';
import { test } from 'node:test';
import { snappyUncompress } from '../../../../../connector/pika/rocksdb/snappy.ts';

/** Snappy elements built by hand (format_description.txt): the decoder must rebuild exactly these bytes. */
function literal(bytes: number[]): number[] {
  const n = bytes.length - 1;
  if (n < 60) return [n << 2, ...bytes];
  if (n < 256) return [60 << 2, n, ...bytes];
  return [61 << 2, n & 0xff, n >> 8, ...bytes];
}
const copy2 = (offset: number, n: number): number[] => [((n - 1) << 2) | 2, offset & 0xff, offset >> 8];
const copy1 = (offset: number, n: number): number[] => [((offset >> 8) << 5) | ((n - 4) << 2) | 1, offset & 0xff];
const varint = (n: number): number[] => (n < 128 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);

test('snappy: literals and copies of every length class, overlapping copies included, rebuild the original bytes', () => {
  const expected: number[] = [];
  const body: number[] = [];
  const lit = (n: number, seed: number) => {
    const bytes = Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);
    body.push(...literal(bytes));
    expected.push(...bytes);
  };
  const cp = (offset: number, n: number, short = false) => {
    body.push(...(short ? copy1(offset, n) : copy2(offset, n)));
    for (let i = 0; i < n; i++) expected.push(expected[expected.length - offset]!);
  };
  lit(3, 1);
  cp(1, 20); // run of one byte
  lit(70, 2); // word-copied literal
  cp(5, 64); // overlapping, offset >= 4
  cp(3, 11, true); // overlapping, offset < 4
  lit(200, 3); // long literal (native copy)
  cp(150, 9, true);
  cp(300, 33);
  lit(300, 4);
  cp(7, 7);
  const out = snappyUncompress(Uint8Array.from([...varint(expected.length), ...body]));
  assert.deepEqual(Buffer.from(out), Buffer.from(expected));
});

test('snappy: a copy reaching before the start and a length header that lies are refused', () => {
  assert.throws(() => snappyUncompress(Uint8Array.from([8, ...literal([1, 2]), ...copy2(3, 6)])), /bad copy offset/);
  assert.throws(() => snappyUncompress(Uint8Array.from([9, ...literal([1, 2, 3, 4]), ...copy2(2, 4)])), /produced 8 bytes, header said 9/);
  assert.throws(() => snappyUncompress(Uint8Array.from([3, ...literal([1, 2, 3, 4])])), /overruns/);
});
