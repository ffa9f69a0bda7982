import { Block } from './block.ts';
import type { BlockThread, BlockThreadUse, UnpackedBlocks } from './block-thread.ts';
import { BLOCK_TRAILER, BlockUnpackError } from './block-unpack.ts';
import { CompressionType } from './compression.ts';
import { RocksDbFormatError } from './errors.ts';
import type { Table } from './table.ts';

/** Bytes of the first read after a seek elsewhere, and the most one read (and one read ahead) may hold. */
const MIN_WINDOW = 32 * 1024;
const MAX_WINDOW = 256 * 1024;

interface Window {
  first: number;
  last: number;
  start: number;
  bytes: number;
}

/** A window's bytes as read (unpacked block by block when used), or its blocks unpacked by the block thread. */
type Contents = { buf: Uint8Array; blocks?: undefined } | { blocks: UnpackedBlocks; buf?: undefined };

/**
 * Reads the data blocks of one table for one iterator. Consecutive blocks are read together in a window (RocksDB's
 * auto-readahead: the window doubles from 32 KiB to 256 KiB while access moves forward, and shrinks after a jump
 * back); while a forward scan decodes one window the next one is already being read, so the scan rarely waits for
 * the disk. With a block thread, windows read ahead are also verified and decompressed there, three windows ahead
 * (its replies queue behind other readers' requests). Memory: the current window and those ahead; decoded blocks
 * are not kept (the caller holds the one it iterates).
 */
export class DataBlockReader {
  private readonly table: Table;
  private readonly blockThread: BlockThread | undefined;
  private readonly depth: number;
  private current: (Window & Contents) | undefined;
  private ahead: (Window & { read: Promise<Contents> })[] = [];

  constructor(table: Table, blockThread?: BlockThreadUse) {
    this.table = table;
    this.blockThread = blockThread && table.fileSize >= blockThread.minFileBytes ? blockThread.thread : undefined;
    this.depth = this.blockThread ? 3 : 1;
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
    this.current = undefined;
    const next = this.ahead[0];
    if (next && i >= next.first && i <= next.last) {
      this.ahead.shift();
      const { read, ...w } = next;
      this.current = { ...w, ...(await read) };
    } else {
      await this.dropAhead();
      const forward = prev !== undefined && i > prev.last;
      const w = this.window(i, forward ? Math.min(prev.bytes * 2, MAX_WINDOW) : MIN_WINDOW);
      this.current = { ...w, buf: await this.read(w) };
    }
    const cur = this.current;
    while (this.ahead.length < this.depth) {
      const last = this.ahead.at(-1) ?? cur;
      if (last.last + 1 >= this.table.dataBlocks.count) break;
      const w = this.window(last.last + 1, Math.min(last.bytes * 2, MAX_WINDOW));
      const read = this.readAhead(w);
      read.catch(() => undefined); // awaited (and its error reported) only if the scan gets there
      this.ahead.push({ ...w, read });
    }
    return this.decode(i, cur);
  }

  /** Waits for reads in flight (before the file is closed) and drops the buffers. */
  async close(): Promise<void> {
    this.current = undefined;
    await this.dropAhead();
  }

  private async dropAhead(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = [];
    for (const a of ahead) await a.read.catch(() => undefined);
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

  /** The next window, unpacked by the block thread when there is one (read here again if that fails). */
  private readAhead(w: Window): Promise<Contents> {
    const inThread = async (): Promise<Contents> => ({ buf: await this.read(w) });
    if (!this.blockThread) return inThread();
    const t = this.table;
    const offsets: number[] = [];
    const sizes: number[] = [];
    for (let i = w.first; i <= w.last; i++) {
      offsets.push(t.dataBlocks.offset(i));
      sizes.push(t.dataBlocks.size(i));
    }
    const unpacked = this.blockThread.unpack({ fd: t.fd, start: w.start, length: this.windowLength(w), offsets, sizes, format: t.footer });
    return unpacked ? unpacked.then((b) => ({ blocks: b }), inThread) : inThread();
  }

  private async read(w: Window): Promise<Uint8Array> {
    const buf = new Uint8Array(this.windowLength(w));
    await this.table.readInto(buf, w.start, 'data');
    return buf;
  }

  /** Bytes from the window's first block to the end of its last block's trailer. */
  private windowLength(w: Window): number {
    const blocks = this.table.dataBlocks;
    return blocks.offset(w.last) + blocks.size(w.last) + BLOCK_TRAILER - w.start;
  }

  private decode(i: number, w: Window & Contents): Block {
    const h = this.table.dataBlocks.handle(i);
    let data: Uint8Array;
    if (w.blocks) {
      const b = w.blocks[i - w.first]!;
      if (b instanceof BlockUnpackError) throw this.table.unpackFailure(b);
      data = b;
    } else {
      const at = h.offset - w.start;
      const raw = w.buf.subarray(at, at + h.size + BLOCK_TRAILER);
      data = this.table.unpackBlock(h, raw, 'data');
      // An uncompressed block would be a view of the whole window: copy it, so values handed out keep only it alive.
      if (raw[h.size] === CompressionType.none) data = data.slice();
    }
    try {
      return new Block(data);
    } catch (err) {
      throw new RocksDbFormatError(this.table.path, `data block is corrupted: ${(err as Error).message}`, h.offset, err);
    }
  }
}
