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

/** Name of a value type, for error messages. */
export function describeValueType(type: number): string {
  for (const [name, v] of Object.entries(ValueType)) if (v === type) return name;
  return `0x${type.toString(16)}`;
}
