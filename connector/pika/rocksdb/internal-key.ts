/**
 * Internal keys (`db/dbformat.h`): user_key ‖ u64 LE (sequence << 8 | value type). Ordered by user key
 * (column family comparator) ascending, then by the packed tag descending (newest first).
 */
export const ValueType = {
  deletion: 0x0,
  value: 0x1,
  merge: 0x2,
  singleDeletion: 0x7,
  rangeDeletion: 0xf,
  blobIndex: 0x11,
  deletionWithTimestamp: 0x14,
  wideColumnEntity: 0x16,
  valuePreferredSeqno: 0x18,
} as const;

export interface ParsedInternalKey {
  userKey: Uint8Array;
  /** sequence number (< 2^56) as a JS number: exact up to 2^53, far beyond any real database. */
  seq: number;
  type: number;
}

export function parseInternalKey(ikey: Uint8Array): ParsedInternalKey {
  if (ikey.length < 8) throw new Error(`internal key of ${ikey.length} bytes is shorter than 8`);
  const n = ikey.length - 8;
  const type = ikey[n]!;
  const lo = (ikey[n + 1]! | (ikey[n + 2]! << 8) | (ikey[n + 3]! << 16)) >>> 0;
  const hi = (ikey[n + 4]! | (ikey[n + 5]! << 8) | (ikey[n + 6]! << 16) | (ikey[n + 7]! << 24)) >>> 0;
  return { userKey: ikey.subarray(0, n), seq: hi * 2 ** 24 + lo, type };
}

export function userKeyOf(ikey: Uint8Array): Uint8Array {
  return ikey.subarray(0, ikey.length - 8);
}

/** True for the types a Pika database may contain (puts and point deletes). */
export function describeValueType(type: number): string {
  for (const [name, v] of Object.entries(ValueType)) if (v === type) return name;
  return `0x${type.toString(16)}`;
}
