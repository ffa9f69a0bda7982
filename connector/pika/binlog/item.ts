// Pika binlog item ("TypeFirst" encoding, Pika 3.0.x and later), as carried in InnerResponse.BinlogSync.binlog:
//
//   offset size field           (all little-endian)
//   0      2    type            always 1 (TypeFirst)
//   2      4    exec_time       unix seconds when the master wrote the item
//   6      4    term_id         0 in classic mode (server_id in 3.0.x)
//   10     8    logic_id        per-DB item counter
//   18     4    filenum         producer position BEFORE this item (= previous item's end)
//   22     8    offset          idem
//   30     4    content_length  must equal the number of bytes after the header
//   34     n    content         one RESP array of bulk strings (the command)
//
// Source: pika-protocol.md §6.1 (include/pika_binlog_transverter.h, src/pika_binlog_transverter.cc@v4.0.1).
import { PikaProtocolError } from '../protocol/errors.ts';
import { parseRespCommand } from '../protocol/resp.ts';

export const BINLOG_ITEM_HEADER_LENGTH = 34;
export const BINLOG_TYPE_FIRST = 1;

/** A binlog position: `write2file<filenum>` at byte `offset`. Ordered by filenum, then offset. */
export interface BinlogPosition {
  filenum: number;
  offset: number;
}

export interface BinlogItemHeader {
  type: number;
  /** Unix seconds. */
  execTime: number;
  termId: number;
  logicId: number;
  /** Where the producer stood before writing this item (see continuity.ts for the rotation exception). */
  start: BinlogPosition;
  contentLength: number;
}

export interface BinlogItem extends BinlogItemHeader {
  /** The raw RESP content (view into the input buffer). */
  content: Buffer;
  /** Command name and arguments, exact bytes (views into the input buffer). argv[0] keeps the client's case. */
  argv: Buffer[];
}

function fail(message: string): never {
  throw new PikaProtocolError(`malformed binlog item: ${message}`, { code: 'PIKA_BINLOG_ITEM' });
}

/** Largest high 32-bit word of a u64 that is still ≤ 2^53-1. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;

function readSafeU64(buf: Buffer, at: number, name: string): number {
  const high = buf.readUInt32LE(at + 4);
  if (high > MAX_SAFE_HIGH_WORD) fail(`${name} ${buf.readBigUInt64LE(at)} is larger than 2^53-1`);
  return high * 0x100000000 + buf.readUInt32LE(at);
}

/** Decodes the 34-byte header; checks type and that content_length matches the bytes present. */
export function decodeBinlogItemHeader(bytes: Uint8Array): BinlogItemHeader {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < BINLOG_ITEM_HEADER_LENGTH) {
    fail(`${buf.length} bytes, shorter than the ${BINLOG_ITEM_HEADER_LENGTH}-byte header`);
  }
  const type = buf.readUInt16LE(0);
  if (type !== BINLOG_TYPE_FIRST) fail(`type ${type}, expected ${BINLOG_TYPE_FIRST} (TypeFirst)`);
  const contentLength = buf.readUInt32LE(30);
  const present = buf.length - BINLOG_ITEM_HEADER_LENGTH;
  if (contentLength !== present) fail(`content_length says ${contentLength} bytes but ${present} follow the header`);
  return {
    type,
    execTime: buf.readUInt32LE(2),
    termId: buf.readUInt32LE(6),
    logicId: readSafeU64(buf, 10, 'logic_id'),
    start: { filenum: buf.readUInt32LE(18), offset: readSafeU64(buf, 22, 'offset') },
    contentLength,
  };
}

/** Decodes a whole item: header plus its RESP command. Throws `PikaProtocolError` on any inconsistency. */
export function decodeBinlogItem(bytes: Uint8Array): BinlogItem {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = decodeBinlogItemHeader(buf);
  const content = buf.subarray(BINLOG_ITEM_HEADER_LENGTH);
  let argv: Buffer[];
  try {
    argv = parseRespCommand(content);
  } catch (err) {
    const where = `${header.start.filenum}:${header.start.offset} (logic_id ${header.logicId})`;
    throw new PikaProtocolError(`binlog item at ${where}: ${(err as Error).message}`, { code: 'PIKA_BINLOG_ITEM', cause: err });
  }
  return {
    type: header.type, execTime: header.execTime, termId: header.termId, logicId: header.logicId, start: header.start,
    contentLength: header.contentLength, content, argv,
  };
}

/** Encodes an item (for tests and the test master). */
export function encodeBinlogItem(header: Omit<BinlogItemHeader, 'contentLength' | 'type'>, content: Uint8Array): Buffer {
  const out = Buffer.alloc(BINLOG_ITEM_HEADER_LENGTH + content.length);
  out.writeUInt16LE(BINLOG_TYPE_FIRST, 0);
  out.writeUInt32LE(header.execTime, 2);
  out.writeUInt32LE(header.termId, 6);
  out.writeBigUInt64LE(BigInt(header.logicId), 10);
  out.writeUInt32LE(header.start.filenum, 18);
  out.writeBigUInt64LE(BigInt(header.start.offset), 22);
  out.writeUInt32LE(content.length, 30);
  out.set(content, BINLOG_ITEM_HEADER_LENGTH);
  return out;
}

const MAX_SAFE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/** Converts a PB BinlogOffset (uint64 offset as bigint) to a BinlogPosition; throws beyond 2^53-1. */
export function toBinlogPosition(offset: { filenum: number; offset: bigint | number }): BinlogPosition {
  const value = typeof offset.offset === 'bigint' ? offset.offset : BigInt(offset.offset);
  if (value < 0n || value > MAX_SAFE_OFFSET) {
    throw new PikaProtocolError(`binlog offset ${offset.filenum}:${value} is outside 0..2^53-1`, { code: 'PIKA_BINLOG_ITEM' });
  }
  return { filenum: offset.filenum, offset: Number(value) };
}

export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  return a.filenum - b.filenum || a.offset - b.offset;
}

export const formatPosition = (p: BinlogPosition): string => `${p.filenum}:${p.offset}`;
