// Reads items back from one DB's binlog files the way PikaBinlogReader does
// (src/pika_binlog_reader.cc @v4.0.1): Seek walks physical records from the start of the block
// holding the requested offset and stops on the first record boundary at or after it; reading
// re-assembles Full / First…Last records and moves on to write2file<n+1> at the end of a file.
// The reader reads files in 1 MiB chunks; whatever looks like the end of the written data is read
// again from disk before being believed (the writer may have appended since the chunk was read).

import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCK_SIZE, fileName, RECORD_HEADER_SIZE, RecordType, type BinlogPosition } from './physical-format.ts';

export interface ReadItem {
  item: Buffer;
  /** Position after the item's last record — PB `binlog_offset`. */
  end: BinlogPosition;
}

export class BinlogReadError extends Error {}

export function binlogFileExists(dir: string, filenum: number): boolean {
  return existsSync(join(dir, fileName(filenum)));
}

function readAt(dir: string, filenum: number, offset: number, length: number): Buffer {
  const fd = openSync(join(dir, fileName(filenum)), 'r');
  try {
    const size = fstatSync(fd).size;
    const n = Math.max(0, Math.min(length, size - offset));
    const out = Buffer.alloc(n);
    if (n > 0) readSync(fd, out, 0, n, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

interface PhysicalRecord { type: number; payload: Buffer; next: number }

type ReadAt = (offset: number, length: number) => Buffer;

const CHUNK_SIZE = 1024 * 1024;

/** Reads of one file served from a chunk read ahead; `fresh` reads bypass and replace the chunk. */
class ChunkedFile {
  private chunk: Buffer = Buffer.alloc(0);
  private chunkAt = 0;

  constructor(private readonly dir: string, private readonly filenum: number) {}

  read(offset: number, length: number, fresh: boolean): Buffer {
    const from = offset - this.chunkAt;
    if (!fresh && from >= 0 && from + length <= this.chunk.length) return this.chunk.subarray(from, from + length);
    this.chunk = readAt(this.dir, this.filenum, offset, Math.max(length, CHUNK_SIZE));
    this.chunkAt = offset;
    return this.chunk.subarray(0, Math.min(length, this.chunk.length));
  }
}

/** The record starting at `offset` (after skipping a < 8 byte block tail), or undefined at end of data. */
function readRecord(read: ReadAt, filenum: number, offset: number): PhysicalRecord | undefined {
  let pos = offset;
  const leftover = BLOCK_SIZE - (pos % BLOCK_SIZE);
  if (leftover < RECORD_HEADER_SIZE) pos += leftover;
  const header = read(pos, RECORD_HEADER_SIZE);
  if (header.length < RECORD_HEADER_SIZE) return undefined;
  const length = header.readUIntLE(0, 3);
  const type = header[7]!;
  if (type === RecordType.Zero && length === 0) return undefined;
  if (type < RecordType.Full || type > RecordType.OldRecord) {
    throw new BinlogReadError(`binlog ${fileName(filenum)}@${pos}: bad record type ${type}`);
  }
  const payload = read(pos + RECORD_HEADER_SIZE, length);
  if (payload.length < length) return undefined; // record still being written
  return { type, payload, next: pos + RECORD_HEADER_SIZE + length };
}

/** readRecord through the chunk; an apparent end of data is checked against the file itself. */
function readRecordChunked(file: ChunkedFile, filenum: number, offset: number): PhysicalRecord | undefined {
  return readRecord((o, l) => file.read(o, l, false), filenum, offset)
    ?? readRecord((o, l) => file.read(o, l, true), filenum, offset);
}

/** PikaBinlogReader::Seek: the record boundary the reader lands on for `offset` in `filenum`. */
export function seekRecordBoundary(dir: string, filenum: number, offset: number): number {
  const blockStart = Math.floor(offset / BLOCK_SIZE) * BLOCK_SIZE;
  let pos = blockStart;
  const read: ReadAt = (o, l) => readAt(dir, filenum, o, l);
  while (pos < offset) {
    const record = readRecord(read, filenum, pos);
    if (!record) return pos;
    pos = record.next;
  }
  return pos;
}

export class BinlogReader {
  private filenum: number;
  private offset: number;
  private file: ChunkedFile;

  constructor(private readonly dir: string, start: BinlogPosition) {
    this.filenum = start.filenum;
    this.offset = seekRecordBoundary(dir, start.filenum, start.offset);
    this.file = new ChunkedFile(dir, this.filenum);
  }

  position(): BinlogPosition {
    return { filenum: this.filenum, offset: this.offset };
  }

  /** Next complete item, or undefined when everything written so far has been read. */
  next(): ReadItem | undefined {
    for (;;) {
      const item = this.readItemInFile();
      if (item) return item;
      if (!binlogFileExists(this.dir, this.filenum + 1)) return undefined;
      this.filenum += 1;
      this.offset = 0;
      this.file = new ChunkedFile(this.dir, this.filenum);
    }
  }

  private readItemInFile(): ReadItem | undefined {
    const parts: Buffer[] = [];
    let pos = this.offset;
    let inItem = false;
    for (;;) {
      const record = readRecordChunked(this.file, this.filenum, pos);
      if (!record) return undefined;
      pos = record.next;
      switch (record.type) {
        case RecordType.Full:
          this.offset = pos;
          return { item: record.payload, end: { filenum: this.filenum, offset: pos } };
        case RecordType.First:
          parts.length = 0;
          parts.push(record.payload);
          inItem = true;
          break;
        case RecordType.Middle:
          if (inItem) parts.push(record.payload);
          break;
        case RecordType.Last:
          if (inItem) {
            parts.push(record.payload);
            this.offset = pos;
            return { item: Buffer.concat(parts), end: { filenum: this.filenum, offset: pos } };
          }
          this.offset = pos; // tail of an item whose start was skipped
          break;
        default:
          this.offset = pos; // padding / bad record
      }
    }
  }
}
