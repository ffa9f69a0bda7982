import { copyBytes, readF64, readI32, readU32, readU64, readU64BE } from '../rocksdb/coding.ts';
import type { StreamMeta } from './types.ts';

/**
 * Pika 4.x ("Floyd") key and value encodings (`src/storage/include/storage/storage_define.h`,
 * `base_key_format.h`, `base_data_key_format.h`, `base_value_format.h`, `strings_value_format.h`,
 * `lists_meta_value_format.h`, `pika_stream_meta_value.h` @v4.0.1; summarised in pika-protocol.md §8.1).
 */
export const FloydType = { string: 0, hash: 1, set: 2, list: 3, zset: 4, stream: 5 } as const;

export const FLOYD_CF = {
  meta: 'default',
  hash: 'hash_data_cf',
  set: 'set_data_cf',
  list: 'list_data_cf',
  zset: 'zset_data_cf',
  zsetScore: 'zset_score_cf',
  stream: 'stream_data_cf',
} as const;

const PREFIX = 8;
const SUFFIX = 16;

/** EK(k): `00` → `00 01`, then the `00 00` delimiter. */
export function encodeUserKey(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(encodedUserKeyLength(key));
  writeUserKey(key, out, 0);
  return out;
}

function encodedUserKeyLength(key: Uint8Array): number {
  let zeros = 0;
  for (let i = 0; i < key.length; i++) if (key[i] === 0) zeros++;
  return key.length + zeros + 2;
}

/** Writes EK(key) into zero-filled `out` from `o` on; returns the offset after its delimiter. */
function writeUserKey(key: Uint8Array, out: Uint8Array, o: number): number {
  for (let i = 0; i < key.length; i++) {
    const b = key[i]!;
    out[o++] = b;
    if (b === 0) out[o++] = 1;
  }
  return o + 2; // the 00 00 delimiter, already 0
}

/**
 * Decodes EK starting at `from` as Pika's DecodeUserKey does, in `buf[0, len)`; `end` is the offset after the
 * delimiter.
 */
export function decodeUserKey(buf: Uint8Array, from: number, len = buf.length): { key: Uint8Array; end: number } {
  // Common case: no escaped 0x00 in the key, so the key is the bytes before the delimiter.
  const first = buf.indexOf(0, from);
  if (first >= 0 && first + 1 < len && buf[first + 1] === 0) return { key: copyBytes(buf, from, first), end: first + 2 };
  const out = new Uint8Array(Math.max(0, len - from));
  let o = 0;
  let i = from;
  while (i < len) {
    const b = buf[i]!;
    if (b === 0) {
      if (i + 1 >= len) break;
      if (buf[i + 1] === 0) return { key: out.slice(0, o), end: i + 2 };
      out[o++] = 0; // `00 01`
      i += 2;
    } else {
      out[o++] = b;
      i++;
    }
  }
  throw new Error('user key has no 00 00 delimiter');
}

/** Meta (CF `default`) key: 00×8 ‖ EK(key) ‖ 00×16. */
export function encodeMetaKey(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(PREFIX + encodedUserKeyLength(key) + SUFFIX);
  writeUserKey(key, out, PREFIX);
  return out;
}

/**
 * Decodes a meta key as Pika's ParsedBaseMetaKey does: the user key ends at the first `00 00`. `intact` is false
 * when more than the 16 reserve bytes follow: Pika 4.0.x's EncodeUserKey bug (a 0x00 inside a key, §8.1) stored
 * the key truncated after its last 0x00, so the key read back is not the key that was written.
 */
export function decodeMetaKey(raw: Uint8Array, len = raw.length): { key: Uint8Array; intact: boolean } {
  const { key, end } = decodeUserKey(raw, PREFIX, len);
  if (end + SUFFIX > len) throw new Error(`meta key has ${len - end} bytes after the user key, expected 16`);
  return { key, intact: end + SUFFIX === len };
}

/** Prefix shared by all data records of one key version: 00×8 ‖ EK(key) ‖ version u64 LE. */
export function dataKeyPrefix(key: Uint8Array, version: bigint): Uint8Array {
  const out = new Uint8Array(PREFIX + encodedUserKeyLength(key) + 8);
  const o = writeUserKey(key, out, PREFIX);
  // Byte by byte: a DataView would move this small on-heap array's bytes to a new ArrayBuffer.
  let lo = Number(version & 0xffffffffn);
  let hi = Number(version >> 32n);
  for (let i = 0; i < 4; i++, lo >>>= 8) out[o + i] = lo & 0xff;
  for (let i = 4; i < 8; i++, hi >>>= 8) out[o + i] = hi & 0xff;
  return out;
}

/** Data-record payload between the version and the 16-byte suffix (field / member / index / score‖member / id). */
export function dataKeyTail(raw: Uint8Array, prefixLength: number): Uint8Array {
  return raw.subarray(prefixLength, dataKeyTailEnd(raw.length, prefixLength));
}

/** Where `dataKeyTail` ends (the offset of the 16-byte suffix) in a data key of `len` bytes. */
export function dataKeyTailEnd(len: number, prefixLength: number): number {
  if (len < prefixLength + SUFFIX) throw new Error('data key shorter than prefix and suffix');
  return len - SUFFIX;
}

/** Timestamps: bit 63 set = milliseconds in the low 63 bits, clear = seconds (4.0.0 data); 0 = none. */
export function decodeTimestampMsAt(buf: Uint8Array, pos: number): number | null {
  const lo = readU32(buf, pos);
  const hi = readU32(buf, pos + 4);
  if (lo === 0 && hi === 0) return null;
  if (hi >>> 31 === 1) return (hi & 0x7fffffff) * 2 ** 32 + lo;
  return (hi * 2 ** 32 + lo) * 1000;
}

export interface FloydStringValue {
  value: Uint8Array;
  expireAtMs: number | null;
  hyperloglog: boolean;
}

export interface FloydCollectionMeta {
  type: 'hash' | 'set' | 'zset' | 'list' | 'stream';
  count: number;
  version: bigint;
  expireAtMs: number | null;
  leftIndex?: bigint;
  rightIndex?: bigint;
  stream?: StreamMeta;
}

export type FloydMeta = ({ type: 'string' } & FloydStringValue) | FloydCollectionMeta;

const STRING_SUFFIX = 32; // reserve[16] ‖ ctime ‖ etime
const BASE_META_LENGTH = 45;
const LIST_META_LENGTH = 81;
const STREAM_META_LENGTH = 73;

export function decodeMetaValue(buf: Uint8Array, start = 0, end = buf.length): FloydMeta {
  if (end <= start) throw new Error('empty meta value');
  const type = buf[start]!;
  if (type === FloydType.string) {
    // Most keys are strings: read in place, one view for the value.
    if (end - start < 1 + STRING_SUFFIX) throw new Error(`string value of ${end - start} bytes is shorter than 33`);
    const r = end - STRING_SUFFIX;
    const hyperloglog = (buf[r]! & 0x80) !== 0;
    // HyperLogLog values carry no millisecond flag; the same rule (as Pika's reader applies) reads them as seconds.
    const expireAtMs = decodeTimestampMsAt(buf, end - 8);
    return { type: 'string', value: buf.subarray(start + 1, r), expireAtMs, hyperloglog };
  }
  const v = buf.subarray(start, end);
  switch (type) {
    case FloydType.hash:
    case FloydType.set:
    case FloydType.zset: {
      if (v.length !== BASE_META_LENGTH) throw new Error(`meta value of ${v.length} bytes, expected ${BASE_META_LENGTH}`);
      return {
        type: type === FloydType.hash ? 'hash' : type === FloydType.set ? 'set' : 'zset',
        count: readI32(v, 1),
        version: readU64(v, 5),
        expireAtMs: decodeTimestampMsAt(v, 37),
      };
    }
    case FloydType.list: {
      if (v.length !== LIST_META_LENGTH) throw new Error(`list meta value of ${v.length} bytes, expected ${LIST_META_LENGTH}`);
      const count = readU64(v, 1);
      return {
        type: 'list',
        count: Number(count),
        version: readU64(v, 9),
        leftIndex: readU64(v, 17),
        rightIndex: readU64(v, 33),
        expireAtMs: decodeTimestampMsAt(v, 73),
      };
    }
    case FloydType.stream: {
      if (v.length !== STREAM_META_LENGTH) throw new Error(`stream meta value of ${v.length} bytes, expected ${STREAM_META_LENGTH}`);
      const id = (p: number) => ({ ms: readU64(v, p), seq: readU64(v, p + 8) });
      return {
        type: 'stream',
        count: readI32(v, 61),
        version: readU64(v, 65),
        expireAtMs: null,
        stream: { groupsId: readU32(v, 1), entriesAdded: readU64(v, 5), firstId: id(13), lastId: id(29), maxDeletedId: id(45) },
      };
    }
    default:
      throw new Error(`unknown type byte ${type} in meta value`);
  }
}

/** Hash field / list element value: user value ‖ reserve[16] ‖ ctime u64. */
export function decodeDataValue(buf: Uint8Array, start = 0, end = buf.length): Uint8Array {
  if (end - start < 24) throw new Error(`data value of ${end - start} bytes is shorter than its 24-byte suffix`);
  return buf.subarray(start, end - 24);
}

/** Zset member value: score (double bits, LE) ‖ reserve[16] ‖ ctime. */
export function decodeZSetScore(buf: Uint8Array, start = 0, end = buf.length): number {
  if (end - start !== 32) throw new Error(`zset member value of ${end - start} bytes, expected 32`);
  return readF64(buf, start);
}

export function decodeListIndex(tail: Uint8Array): bigint {
  if (tail.length !== 8) throw new Error(`list data key index of ${tail.length} bytes, expected 8`);
  return readU64(tail, 0);
}

export function decodeStreamId(tail: Uint8Array): { ms: bigint; seq: bigint } {
  if (tail.length !== 16) throw new Error(`stream entry id of ${tail.length} bytes, expected 16`);
  return { ms: readU64BE(tail, 0), seq: readU64BE(tail, 8) };
}

/** Stream entry value: repeated `len u32 LE ‖ bytes` (field, value, field, value, …). */
export function decodeStreamFields(v: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < v.length) {
    if (p + 4 > v.length) throw new Error('stream entry value truncated');
    const n = readU32(v, p);
    p += 4;
    if (p + n > v.length) throw new Error('stream entry field overruns value');
    out.push(v.subarray(p, p + n));
    p += n;
  }
  if (out.length % 2 !== 0) throw new Error(`stream entry has ${out.length} strings, not field/value pairs`);
  return out;
}
