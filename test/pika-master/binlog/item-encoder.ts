// Pika binlog item ("TypeFirst") encoder — the test master's own, independent of the connector's decoder.
// Layout (include/pika_binlog_transverter.h, src/pika_binlog_transverter.cc @v4.0.1), little-endian:
//   u16 type=1 | u32 exec_time | u32 term_id | u64 logic_id | u32 filenum | u64 offset | u32 content_length | content
// filenum/offset = producer position before the item was written (read before any file roll).

export const BINLOG_ITEM_HEADER_SIZE = 34;
export const BINLOG_TYPE_FIRST = 1;

export interface BinlogItemHeader {
  execTime: number;
  termId: number;
  logicId: bigint;
  filenum: number;
  offset: bigint;
}

export function encodeBinlogItem(header: BinlogItemHeader, content: Buffer): Buffer {
  return encodeBinlogItemInto(Buffer.allocUnsafe(BINLOG_ITEM_HEADER_SIZE + content.length), 0, header, content);
}

/** Encodes the item into `out` at `at` (room for BINLOG_ITEM_HEADER_SIZE + content); returns that slice. */
export function encodeBinlogItemInto(out: Buffer, at: number, header: BinlogItemHeader, content: Buffer): Buffer {
  out.writeUInt16LE(BINLOG_TYPE_FIRST, at);
  out.writeUInt32LE(header.execTime >>> 0, at + 2);
  out.writeUInt32LE(header.termId >>> 0, at + 6);
  out.writeBigUInt64LE(header.logicId, at + 10);
  out.writeUInt32LE(header.filenum >>> 0, at + 18);
  out.writeBigUInt64LE(header.offset, at + 22);
  out.writeUInt32LE(content.length, at + 30);
  content.copy(out, at + BINLOG_ITEM_HEADER_SIZE);
  return out.subarray(at, at + BINLOG_ITEM_HEADER_SIZE + content.length);
}
