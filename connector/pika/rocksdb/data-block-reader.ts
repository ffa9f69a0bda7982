import { Block } from './block.ts';
import { CompressionType } from './compression.ts';
import { RocksDbFormatError } from './errors.ts';
import { BLOCK_TRAILER, type Table } from './table.ts';

/** Bytes of the first read after a seek elsewhere, and the most one read (and one read ahead) may hold. */
const MIN_WINDOW = 32 * 1024;
const MAX_WINDOW = 256 * 1024;

interface Window {
  first: number;
  last: number;
  start: number;
  bytes: number;
}

/**
 * Reads the data blocks of one table for one iterator. Consecutive blocks are read together in a window (RocksDB's
 * auto-readahead: the window doubles from 32 KiB to 256 KiB while access moves forward, and shrinks after a jump
 * back); while a forward scan decodes one window the next one is already being read, so the scan rarely waits for
 * the disk. Memory: at most two windows per iterator; decoded blocks are not kept (the caller holds the one it
 * iterates).
 */
export class DataBlockReader {
  private readonly table: Table;
  private current: (Window & { buf: Uint8Array }) | undefined;
  private ahead: (Window & { read: Promise<Uint8Array> }) | undefined;

  constructor(table: Table) {
    this.table = table;
  }

  /** Block `i` when its bytes are already in memory (no I/O), else undefined: then `load(i)`. */
  tryGet(i: number): Block | undefined {
    const w = this.current;
    if (w && i >= w.first && i <= w.last) return this.decode(i, w);
    return undefined;
  }

  async load(i: number): Promise<Block> {
    const hit = this.tryGet(i);
    if (hit) return hit;
    const prev = this.current;
    const ahead = this.ahead;
    this.ahead = undefined;
    this.current = undefined;
    if (ahead && i >= ahead.first && i <= ahead.last) {
      this.current = { ...ahead, buf: await ahead.read };
    } else {
      if (ahead) await ahead.read.catch(() => undefined);
      const forward = prev !== undefined && i > prev.last;
      const w = this.window(i, forward ? Math.min(prev.bytes * 2, MAX_WINDOW) : MIN_WINDOW);
      this.current = { ...w, buf: await this.read(w) };
    }
    const cur = this.current;
    if (cur.last + 1 < this.table.dataBlocks.count) {
      const next = this.window(cur.last + 1, Math.min(cur.bytes * 2, MAX_WINDOW));
      const read = this.read(next);
      read.catch(() => undefined); // awaited (and its error reported) only if the scan gets there
      this.ahead = { ...next, read };
    }
    return this.decode(i, cur);
  }

  /** Waits for a read in flight (before the file is closed) and drops the buffers. */
  async close(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = undefined;
    this.current = undefined;
    if (ahead) await ahead.read.catch(() => undefined);
  }

  /** Blocks i… that fit in `bytes` (at least block i), contiguous in the file. */
  private window(i: number, bytes: number): Window {
    const blocks = this.table.dataBlocks;
    this.table.checkBlockBounds(blocks.handle(i), 'data');
    const start = blocks.offset(i);
    let end = start + blocks.size(i) + BLOCK_TRAILER;
    let last = i;
    while (last + 1 < blocks.count) {
      const hStart = blocks.offset(last + 1);
      const hEnd = hStart + blocks.size(last + 1) + BLOCK_TRAILER;
      if (hStart < end || hEnd - start > bytes || hEnd > this.table.fileSize) break;
      end = hEnd;
      last++;
    }
    return { first: i, last, start, bytes: Math.max(bytes, end - start) };
  }

  private async read(w: Window): Promise<Uint8Array> {
    const blocks = this.table.dataBlocks;
    const buf = new Uint8Array(blocks.offset(w.last) + blocks.size(w.last) + BLOCK_TRAILER - w.start);
    await this.table.readInto(buf, w.start, 'data');
    return buf;
  }

  private decode(i: number, w: Window & { buf: Uint8Array }): Block {
    const h = this.table.dataBlocks.handle(i);
    const at = h.offset - w.start;
    const raw = w.buf.subarray(at, at + h.size + BLOCK_TRAILER);
    let data = this.table.unpackBlock(h, raw, 'data');
    // An uncompressed block would be a view of the whole window: copy it, so values handed out keep only it alive.
    if (raw[h.size] === CompressionType.none) data = data.slice();
    try {
      return new Block(data);
    } catch (err) {
      throw new RocksDbFormatError(this.table.path, `data block is corrupted: ${(err as Error).message}`, h.offset, err);
    }
  }
}
