import { ByteReader } from './coding.ts';
import { ValueType } from './internal-key.ts';

/**
 * WAL payload = one WriteBatch (`db/write_batch.cc`): sequence u64 LE ‖ count u32 LE ‖ records, each a tag byte
 * then (column family varint32 for the `ColumnFamily*` tags) and length-prefixed key / value. Every
 * put/delete/merge consumes one sequence number, starting at the batch's.
 */
export interface BatchOp {
  cf: number;
  seq: number;
  type: number; // ValueType.value / deletion / singleDeletion
  key: Uint8Array;
  value: Uint8Array;
}

const Rec = {
  deletion: 0x0,
  value: 0x1,
  merge: 0x2,
  logData: 0x3,
  cfDeletion: 0x4,
  cfValue: 0x5,
  cfMerge: 0x6,
  singleDeletion: 0x7,
  cfSingleDeletion: 0x8,
  beginPrepareXid: 0x9,
  endPrepareXid: 0xa,
  commitXid: 0xb,
  rollbackXid: 0xc,
  noop: 0xd,
  cfRangeDeletion: 0xe,
  rangeDeletion: 0xf,
  cfBlobIndex: 0x10,
  blobIndex: 0x11,
  beginPersistedPrepareXid: 0x12,
  beginUnprepareXid: 0x13,
  deletionWithTimestamp: 0x14,
  commitXidAndTimestamp: 0x15,
  wideColumnEntity: 0x16,
  cfWideColumnEntity: 0x17,
} as const;

/** Decodes one batch; throws a descriptive Error on malformed data or operations Pika never issues. */
export function decodeWriteBatch(data: Uint8Array): BatchOp[] {
  if (data.length < 12) throw new Error(`write batch of ${data.length} bytes is shorter than its 12-byte header`);
  const r = new ByteReader(data);
  const seqBig = r.u64();
  const count = r.u32();
  let seq = Number(seqBig);
  const ops: BatchOp[] = [];
  const empty = new Uint8Array(0);
  while (r.remaining > 0) {
    const tag = r.u8();
    switch (tag) {
      case Rec.value:
      case Rec.cfValue: {
        const cf = tag === Rec.cfValue ? r.varint32() : 0;
        const key = r.lengthPrefixed();
        const value = r.lengthPrefixed();
        ops.push({ cf, seq: seq++, type: ValueType.value, key, value });
        break;
      }
      case Rec.deletion:
      case Rec.cfDeletion:
      case Rec.singleDeletion:
      case Rec.cfSingleDeletion: {
        const cf = tag === Rec.cfDeletion || tag === Rec.cfSingleDeletion ? r.varint32() : 0;
        const key = r.lengthPrefixed();
        const single = tag === Rec.singleDeletion || tag === Rec.cfSingleDeletion;
        ops.push({ cf, seq: seq++, type: single ? ValueType.singleDeletion : ValueType.deletion, key, value: empty });
        break;
      }
      case Rec.logData:
        r.lengthPrefixed();
        break;
      case Rec.noop:
        break;
      case Rec.merge:
      case Rec.cfMerge:
        throw new Error('merge operation in WAL (Pika defines no merge operator)');
      case Rec.rangeDeletion:
      case Rec.cfRangeDeletion:
        throw new Error('range deletion in WAL (Pika never uses DeleteRange)');
      case Rec.blobIndex:
      case Rec.cfBlobIndex:
        throw new Error('blob index in WAL (blob files are not supported)');
      case Rec.wideColumnEntity:
      case Rec.cfWideColumnEntity:
        throw new Error('wide-column entity in WAL (not supported)');
      default:
        throw new Error(`unsupported write batch record tag 0x${tag.toString(16)} (transactions/timestamps are not supported)`);
    }
  }
  if (ops.length !== count) throw new Error(`write batch announces ${count} operations but holds ${ops.length}`);
  return ops;
}
