import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  blackwidowListsDataKeyComparator,
  blackwidowZSetsScoreKeyComparator,
  comparatorByName,
  floydListsDataKeyComparator,
  floydZSetsScoreKeyComparator,
} from '../../../../../connector/pika/rocksdb/comparators.ts';
import { encodeUserKey } from '../../../../../connector/pika/dump/floyd-format.ts';

const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};
const f64 = (x: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b;
};
const floydList = (key: string, version: bigint, index?: bigint) =>
  Buffer.concat([Buffer.alloc(8), encodeUserKey(Buffer.from(key, 'latin1')), u64(version), ...(index === undefined ? [] : [u64(index), Buffer.alloc(16)])]);
const floydScore = (key: string, version: bigint, score: number, member: string) =>
  Buffer.concat([Buffer.alloc(8), encodeUserKey(Buffer.from(key)), u64(version), f64(score), Buffer.from(member), Buffer.alloc(16)]);
const bwList = (key: string, version: number, index?: bigint) => {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(key.length);
  const v = Buffer.alloc(4);
  v.writeInt32LE(version);
  return Buffer.concat([h, Buffer.from(key), v, ...(index === undefined ? [] : [u64(index)])]);
};
const bwScore = (key: string, version: number, score: number, member: string) => {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(key.length);
  const v = Buffer.alloc(4);
  v.writeInt32LE(version);
  return Buffer.concat([h, Buffer.from(key), v, f64(score), Buffer.from(member)]);
};

function assertOrder(cmp: (a: Uint8Array, b: Uint8Array) => number, keys: Buffer[]) {
  for (let i = 0; i < keys.length; i++) {
    for (let j = 0; j < keys.length; j++) {
      assert.equal(Math.sign(cmp(keys[i]!, keys[j]!)), Math.sign(i - j), `keys ${i} vs ${j}`);
    }
  }
}

describe('Pika comparators (ported from custom_comparator.h)', () => {
  it('floyd lists: by escaped key, then version and index numerically (not bytewise)', () => {
    assertOrder(floydListsDataKeyComparator.compare, [
      floydList('a', 5n), // prefix without index sorts first (a seek target)
      floydList('a', 5n, 1n),
      floydList('a', 5n, 256n), // bytewise LE would put 256 (00 01 …) before 1 (01 00 …)
      floydList('a', 5n, 1n << 63n),
      floydList('a', 6n, 0n),
      floydList('a\0', 1n, 0n), // escaped 0x00 inside the key
      floydList('ab', 1n, 0n),
    ]);
  });
  it('floyd zset scores: by key, version bytes, score as a double, then member', () => {
    assertOrder(floydZSetsScoreKeyComparator.compare, [
      floydScore('z', 1n, -Infinity, 'm'),
      floydScore('z', 1n, -2.5, 'a'),
      floydScore('z', 1n, 0, 'b'),
      floydScore('z', 1n, 3, 'a'),
      floydScore('z', 1n, 3, 'b'),
      floydScore('z', 1n, 1e300, 'a'),
      floydScore('z2', 1n, -5, 'a'),
    ]);
  });
  it('blackwidow lists: by key bytes (not length), then signed version, then index', () => {
    assertOrder(blackwidowListsDataKeyComparator.compare, [
      bwList('aa', 1),
      bwList('aa', 1, 2n),
      bwList('aa', 1, 300n),
      bwList('aa', 2, 0n),
      bwList('b', -1, 0n),
      bwList('b', 0, 0n),
    ]);
  });
  it('blackwidow zset scores: by key and version, then score as a double, then member', () => {
    assertOrder(blackwidowZSetsScoreKeyComparator.compare, [
      bwScore('z', 7, -1, 'x'),
      bwScore('z', 7, 0.5, 'a'),
      bwScore('z', 7, 0.5, 'b'),
      bwScore('z', 7, 10, 'a'),
      bwScore('z', 8, -100, 'a'),
    ]);
  });
  it('unknown comparator names are refused', () => {
    assert.equal(comparatorByName('leveldb.BytewiseComparator').name, 'leveldb.BytewiseComparator');
    assert.throws(() => comparatorByName('my.Comparator'), /unsupported comparator "my.Comparator"/);
  });
});
