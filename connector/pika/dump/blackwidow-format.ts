import { readF64, readI32, readU32, readU64 } from '../rocksdb/coding.ts';

/**
 * Pika 3.x ("Blackwidow") encodings (`src/storage/src/*_format.h@v3.5.5`, Qihoo360/blackwidow; pika-protocol.md
 * §8.2): one RocksDB per type; meta keys are the raw user key; data keys are key_len u32 LE ‖ key ‖ version i32
 * ‖ field; all timestamps are int32 unix seconds (0 = no expiry).
 */
export const BLACKWIDOW_INSTANCES = ['strings', 'hashes', 'lists', 'sets', 'zsets'] as const;
export type BlackwidowInstance = (typeof BLACKWIDOW_INSTANCES)[number];

/** Data column family of each collection database (sets call theirs `member_cf`). */
export const BLACKWIDOW_DATA_CF: Record<Exclude<BlackwidowInstance, 'strings'>, string> = {
  hashes: 'data_cf',
  lists: 'data_cf',
  sets: 'member_cf',
  zsets: 'data_cf',
};

function secondsToMs(ts: number): number | null {
  return ts === 0 ? null : ts * 1000;
}

/** strings: value ‖ timestamp i32. */
export function decodeStringValue(v: Uint8Array): { value: Uint8Array; expireAtMs: number | null } {
  if (v.length < 4) throw new Error(`string value of ${v.length} bytes is shorter than its 4-byte timestamp`);
  return { value: v.subarray(0, v.length - 4), expireAtMs: secondsToMs(readI32(v, v.length - 4)) };
}

export interface BlackwidowMeta {
  count: number;
  version: number;
  expireAtMs: number | null;
  leftIndex?: bigint;
  rightIndex?: bigint;
}

/** hashes/sets/zsets meta: count i32 ‖ version i32 ‖ timestamp i32. */
export function decodeBaseMeta(v: Uint8Array): BlackwidowMeta {
  if (v.length !== 12) throw new Error(`meta value of ${v.length} bytes, expected 12`);
  return { count: readI32(v, 0), version: readI32(v, 4), expireAtMs: secondsToMs(readI32(v, 8)) };
}

/** lists meta: count u64 ‖ version i32 ‖ timestamp i32 ‖ left_index u64 ‖ right_index u64. */
export function decodeListsMeta(v: Uint8Array): BlackwidowMeta {
  if (v.length !== 32) throw new Error(`list meta value of ${v.length} bytes, expected 32`);
  return {
    count: Number(readU64(v, 0)),
    version: readI32(v, 8),
    expireAtMs: secondsToMs(readI32(v, 12)),
    leftIndex: readU64(v, 16),
    rightIndex: readU64(v, 24),
  };
}

export function dataKeyPrefix(key: Uint8Array, version: number): Uint8Array {
  const out = new Uint8Array(4 + key.length + 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, key.length, true);
  out.set(key, 4);
  dv.setInt32(4 + key.length, version, true);
  return out;
}

export function decodeListIndex(tail: Uint8Array): bigint {
  if (tail.length !== 8) throw new Error(`list data key index of ${tail.length} bytes, expected 8`);
  return readU64(tail, 0);
}

export function decodeZSetScore(v: Uint8Array): number {
  if (v.length !== 8) throw new Error(`zset member value of ${v.length} bytes, expected 8`);
  return readF64(v, 0);
}

export function dataKeyLength(raw: Uint8Array): number {
  return readU32(raw, 0);
}
