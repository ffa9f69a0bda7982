import { crc32c } from '../../../../../connector/pika/rocksdb/checksum.ts';

/** Test helper: encodes payloads in RocksDB's log format (32 KiB blocks, FULL / FIRST-MIDDLE-LAST fragments). */
export function encodeLog(payloads: Uint8Array[]): Buffer {
  const BLOCK = 32768;
  const out: Buffer[] = [];
  let inBlock = 0;
  const physical = (type: number, data: Uint8Array) => {
    const h = Buffer.alloc(7);
    const c = crc32c(data, crc32c(Uint8Array.of(type)));
    const masked = (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
    h.writeUInt32LE(masked, 0);
    h.writeUInt16LE(data.length, 4);
    h[6] = type;
    out.push(h, Buffer.from(data));
    inBlock += 7 + data.length;
  };
  for (const p of payloads) {
    let rest = p;
    let first = true;
    for (;;) {
      if (BLOCK - inBlock < 7) {
        out.push(Buffer.alloc(BLOCK - inBlock));
        inBlock = 0;
      }
      const room = BLOCK - inBlock - 7;
      const frag = rest.subarray(0, room);
      rest = rest.subarray(frag.length);
      const last = rest.length === 0;
      physical(first && last ? 1 : first ? 2 : last ? 4 : 3, frag);
      first = false;
      if (last) break;
    }
  }
  return Buffer.concat(out);
}

export type BatchOp = { type: 'put'; cf: number; key: Uint8Array; value: Uint8Array } | { type: 'delete'; cf: number; key: Uint8Array };

/** Test helper: one WriteBatch (sequence, count, records with column family ids). */
export function encodeWriteBatch(seq: number, ops: BatchOp[]): Uint8Array {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(seq), 0);
  head.writeUInt32LE(ops.length, 8);
  parts.push(head);
  const varint = (n: number) => {
    const b: number[] = [];
    while (n >= 0x80) {
      b.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    b.push(n);
    return Buffer.from(b);
  };
  const lp = (b: Uint8Array) => Buffer.concat([varint(b.length), Buffer.from(b)]);
  for (const op of ops) {
    if (op.type === 'put') parts.push(op.cf === 0 ? Buffer.of(0x1) : Buffer.concat([Buffer.of(0x5), varint(op.cf)]), lp(op.key), lp(op.value));
    else parts.push(op.cf === 0 ? Buffer.of(0x0) : Buffer.concat([Buffer.of(0x4), varint(op.cf)]), lp(op.key));
  }
  return Buffer.concat(parts);
}
