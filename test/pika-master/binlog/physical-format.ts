// Physical layout of Pika binlog files (src/pika_binlog.cc, include/pika_define.h @v4.0.1):
// 64 KiB blocks; each record = 8-byte header (bytes 0-2 payload length u24 LE, 3-6 unix time u32 LE,
// 7 type) + payload. A block tail shorter than 8 bytes is zero-padded. Items larger than what is left
// of a block are split into First / Middle… / Last records.

export const BLOCK_SIZE = 65536;
export const RECORD_HEADER_SIZE = 8;
export const BINLOG_PREFIX = 'write2file';

export const RecordType = { Zero: 0, Full: 1, First: 2, Middle: 3, Last: 4, Eof: 5, BadRecord: 6, OldRecord: 7 } as const;

export function encodeRecordHeader(length: number, time: number, type: number): Buffer {
  return writeRecordHeader(Buffer.alloc(RECORD_HEADER_SIZE), 0, length, time, type);
}

export function writeRecordHeader(out: Buffer, at: number, length: number, time: number, type: number): Buffer {
  out.writeUIntLE(length, at, 3);
  out.writeUInt32LE(time >>> 0, at + 3);
  out[at + 7] = type;
  return out;
}

export interface BinlogPosition {
  filenum: number;
  offset: number;
}

export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  return a.filenum !== b.filenum ? a.filenum - b.filenum : a.offset - b.offset;
}

export const fileName = (filenum: number): string => `${BINLOG_PREFIX}${filenum}`;
