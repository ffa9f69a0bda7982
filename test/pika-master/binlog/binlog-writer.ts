// Appends binlog items to one DB's `write2file<N>` files exactly as Pika's `Binlog::Put` does:
// header position read before the roll check, roll when the current file already holds more than
// `binlog-file-size` bytes, record splitting/padding per Binlog::Produce, manifest rewritten after
// every item. 4.0.1 keeps the active file preallocated to 4 MiB (truncated to its real size on
// roll); 3.5.5 files have their real size — chosen by `preallocate`.

import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBinlogItem } from './item-encoder.ts';
import { readManifest, writeManifest } from './manifest.ts';
import {
  BLOCK_SIZE, BINLOG_PREFIX, encodeRecordHeader, fileName, RECORD_HEADER_SIZE, RecordType, type BinlogPosition,
} from './physical-format.ts';

const PREALLOCATE_STEP = 4 * 1024 * 1024;

export interface BinlogWriterOptions {
  dir: string;
  fileSize: number;
  preallocate: boolean;
  nowSeconds(): number;
}

export interface AppendedItem {
  /** Producer position before the item (also embedded in its header). */
  start: BinlogPosition;
  /** Producer position after the item: what PB `BinlogSync.binlog_offset` carries. */
  end: BinlogPosition;
  logicId: bigint;
  item: Buffer;
}

export class BinlogWriter {
  private fd = -1;
  private filenum = 0;
  private offset = 0;
  private logicId = 0n;
  private allocated = 0;

  constructor(private readonly options: BinlogWriterOptions) {
    mkdirSync(options.dir, { recursive: true });
    const manifestPath = join(options.dir, 'manifest');
    if (existsSync(manifestPath)) {
      const state = readManifest(manifestPath);
      this.filenum = state.filenum;
      this.offset = Number(state.offset);
      this.logicId = state.logicId;
    }
    this.openCurrent(existsSync(manifestPath));
    this.saveManifest();
  }

  get dir(): string {
    return this.options.dir;
  }

  producer(): BinlogPosition & { logicId: bigint } {
    return { filenum: this.filenum, offset: this.offset, logicId: this.logicId };
  }

  append(content: Buffer): AppendedItem {
    const start = { filenum: this.filenum, offset: this.offset };
    const now = this.options.nowSeconds();
    this.logicId += 1n;
    const item = encodeBinlogItem(
      { execTime: now, termId: 0, logicId: this.logicId, filenum: start.filenum, offset: BigInt(start.offset) },
      content,
    );
    if (this.offset > this.options.fileSize) this.roll();
    this.produce(item, now);
    this.saveManifest();
    return { start, end: { filenum: this.filenum, offset: this.offset }, logicId: this.logicId, item };
  }

  /** Existing binlog file numbers, ascending. */
  fileNumbers(): number[] {
    return listBinlogFiles(this.options.dir);
  }

  /** Deletes `write2file<n>` for every n ≤ upTo that is not the active file. Returns the deleted numbers. */
  deleteFilesUpTo(upTo: number): number[] {
    const deleted: number[] = [];
    for (const n of this.fileNumbers()) {
      if (n <= upTo && n < this.filenum) {
        unlinkSync(join(this.options.dir, fileName(n)));
        deleted.push(n);
      }
    }
    return deleted;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private openCurrent(existing: boolean): void {
    const path = join(this.options.dir, fileName(this.filenum));
    this.fd = openSync(path, existing && existsSync(path) ? 'r+' : 'w+');
    this.allocated = statSync(path).size;
    this.ensureAllocated(this.offset);
  }

  private ensureAllocated(upTo: number): void {
    if (!this.options.preallocate || upTo <= this.allocated) return;
    this.allocated = Math.ceil(Math.max(upTo, 1) / PREALLOCATE_STEP) * PREALLOCATE_STEP;
    ftruncateSync(this.fd, this.allocated);
  }

  private roll(): void {
    ftruncateSync(this.fd, this.offset);
    closeSync(this.fd);
    this.filenum += 1;
    this.offset = 0;
    this.allocated = 0;
    this.fd = openSync(join(this.options.dir, fileName(this.filenum)), 'w+');
    this.ensureAllocated(PREALLOCATE_STEP);
    this.saveManifest();
  }

  /** Binlog::Produce + EmitPhysicalRecord. */
  private produce(item: Buffer, now: number): void {
    let left = item.length;
    let pos = 0;
    let begin = true;
    do {
      const blockOffset = this.offset % BLOCK_SIZE;
      const leftover = BLOCK_SIZE - blockOffset;
      if (leftover < RECORD_HEADER_SIZE) {
        this.write(Buffer.alloc(leftover));
      }
      const avail = BLOCK_SIZE - (this.offset % BLOCK_SIZE) - RECORD_HEADER_SIZE;
      const fragment = Math.min(left, avail);
      const end = left === fragment;
      const type = begin && end ? RecordType.Full : begin ? RecordType.First : end ? RecordType.Last : RecordType.Middle;
      this.write(Buffer.concat([encodeRecordHeader(fragment, now, type), item.subarray(pos, pos + fragment)]));
      pos += fragment;
      left -= fragment;
      begin = false;
    } while (left > 0);
  }

  private write(bytes: Buffer): void {
    this.ensureAllocated(this.offset + bytes.length);
    writeSync(this.fd, bytes, 0, bytes.length, this.offset);
    this.offset += bytes.length;
  }

  private saveManifest(): void {
    writeManifest(join(this.options.dir, 'manifest'), {
      filenum: this.filenum, offset: BigInt(this.offset), logicId: this.logicId, term: 0,
    });
  }
}

export function listBinlogFiles(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.startsWith(BINLOG_PREFIX) && /^\d+$/.test(name.slice(BINLOG_PREFIX.length)))
    .map((name) => Number(name.slice(BINLOG_PREFIX.length)))
    .sort((a, b) => a - b);
}
