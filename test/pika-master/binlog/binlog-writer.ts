// Appends binlog items to one DB's `write2file<N>` files exactly as Pika's `Binlog::Put` does:
// header position read before the roll check, roll when the current file already holds more than
// `binlog-file-size` bytes, record splitting/padding per Binlog::Produce, manifest rewritten after
// every item. 4.0.1 keeps the active file preallocated to 4 MiB (truncated to its real size on
// roll); 3.5.5 files have their real size — chosen by `preallocate`.
// Speed without changing the bytes: the manifest stays open and only its 24 state bytes are rewritten
// (the rest of the 64 KiB is zeros); each item's records go out in one write; inside `batch()` items
// are written and the manifest saved once at the end (readers only run on later ticks).

import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { BINLOG_ITEM_HEADER_SIZE, encodeBinlogItemInto } from './item-encoder.ts';
import { encodeManifestState, MANIFEST_STATE_SIZE, readManifest, writeManifest } from './manifest.ts';
import {
  BLOCK_SIZE, BINLOG_PREFIX, encodeRecordHeader, fileName, RECORD_HEADER_SIZE, RecordType, writeRecordHeader, type BinlogPosition,
} from './physical-format.ts';

const PREALLOCATE_STEP = 4 * 1024 * 1024;
/** Buffers per writev call (Linux IOV_MAX) and buffered at most before writing. */
const IOV_MAX = 1024;
const PENDING_BUFFERS_MAX = 8192;

export interface BinlogWriterOptions {
  dir: string;
  fileSize: number;
  preallocate: boolean;
  nowSeconds(): number;
  /** Bytes 6–9 of every item: 0 (term id) in 3.5/4.0; the master's server_id in legacy 3.0. */
  termId?: number;
  /** Legacy 3.0 numbers items from logic_id 0 (PB versions from 1). */
  zeroBasedLogicIds?: boolean;
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
  private manifestFd = -1;
  private readonly manifestState = Buffer.alloc(MANIFEST_STATE_SIZE);
  /** Bytes produced but not yet written, starting at file offset `pendingAt`. */
  private pending: Buffer[] = [];
  private pendingAt = 0;
  private batchDepth = 0;

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
    writeManifest(manifestPath, { filenum: this.filenum, offset: BigInt(this.offset), logicId: this.logicId, term: 0 });
    this.manifestFd = openSync(manifestPath, 'r+');
  }

  /**
   * Runs `fn` (which may append many items) with file writes and manifest saves deferred to its end:
   * the files then hold exactly what per-item appends would have written. Nothing may read this DB's
   * binlog files synchronously inside `fn`.
   */
  batch<T>(fn: () => T): T {
    this.batchDepth += 1;
    try {
      return fn();
    } finally {
      this.batchDepth -= 1;
      if (this.batchDepth === 0) this.sync();
    }
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
    // One buffer holding a record header slot + the item: a Full record is then written as is.
    const framed = Buffer.allocUnsafe(RECORD_HEADER_SIZE + BINLOG_ITEM_HEADER_SIZE + content.length);
    const item = encodeBinlogItemInto(
      framed, RECORD_HEADER_SIZE,
      { execTime: now, termId: this.options.termId ?? 0, logicId: this.options.zeroBasedLogicIds ? this.logicId - 1n : this.logicId, filenum: start.filenum, offset: BigInt(start.offset) },
      content,
    );
    if (this.offset > this.options.fileSize) this.roll();
    this.produce(item, now, framed);
    if (this.batchDepth === 0) this.sync();
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
    if (this.fd >= 0) {
      this.sync();
      closeSync(this.fd);
    }
    if (this.manifestFd >= 0) closeSync(this.manifestFd);
    this.fd = -1;
    this.manifestFd = -1;
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
    this.flushPending();
    ftruncateSync(this.fd, this.offset);
    closeSync(this.fd);
    this.filenum += 1;
    this.offset = 0;
    this.allocated = 0;
    this.fd = openSync(join(this.options.dir, fileName(this.filenum)), 'w+');
    this.ensureAllocated(PREALLOCATE_STEP);
    this.saveManifest();
  }

  /** Binlog::Produce + EmitPhysicalRecord. `framed` = 8 spare bytes + `item`. */
  private produce(item: Buffer, now: number, framed: Buffer): void {
    const blockLeft = BLOCK_SIZE - (this.offset % BLOCK_SIZE);
    if (blockLeft >= RECORD_HEADER_SIZE && item.length <= blockLeft - RECORD_HEADER_SIZE) {
      this.write(writeRecordHeader(framed, 0, item.length, now, RecordType.Full));
      return;
    }
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
      this.write(encodeRecordHeader(fragment, now, type));
      this.write(item.subarray(pos, pos + fragment));
      pos += fragment;
      left -= fragment;
      begin = false;
    } while (left > 0);
  }

  private write(bytes: Buffer): void {
    this.ensureAllocated(this.offset + bytes.length);
    if (this.pending.length === 0) this.pendingAt = this.offset;
    this.pending.push(bytes);
    this.offset += bytes.length;
    if (this.pending.length >= PENDING_BUFFERS_MAX) this.flushPending();
  }

  private flushPending(): void {
    let at = this.pendingAt;
    for (let i = 0; i < this.pending.length; i += IOV_MAX) {
      const chunk = this.pending.slice(i, i + IOV_MAX);
      const total = chunk.reduce((sum, b) => sum + b.length, 0);
      let done = writevSync(this.fd, chunk, at);
      if (done < total) {
        const rest = Buffer.concat(chunk);
        while (done < total) done += writeSync(this.fd, rest, done, total - done, at + done);
      }
      at += total;
    }
    this.pending = [];
  }

  /** Writes pending bytes, then the manifest state. */
  private sync(): void {
    this.flushPending();
    this.saveManifest();
  }

  private saveManifest(): void {
    encodeManifestState({ filenum: this.filenum, offset: BigInt(this.offset), logicId: this.logicId, term: 0 }, this.manifestState);
    writeSync(this.manifestFd, this.manifestState, 0, MANIFEST_STATE_SIZE, 0);
  }
}

export function listBinlogFiles(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.startsWith(BINLOG_PREFIX) && /^\d+$/.test(name.slice(BINLOG_PREFIX.length)))
    .map((name) => Number(name.slice(BINLOG_PREFIX.length)))
    .sort((a, b) => a - b);
}
