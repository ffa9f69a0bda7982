// One of the four per-connection file readers of Pika's rsync server (`RsyncReader`, include/rsync_server.h
// @v4.0.1): it caches one 16 MiB-aligned block of one file, so an answer never crosses a 16 MiB boundary, and it
// keeps serving that cached block while the same path and block are asked for, even if the file changed on disk.
// Asking past the end of the file reproduces Pika's unsigned arithmetic: `count` bytes of the stale block buffer
// (zeros here) and eof 0.

import { open, type FileHandle } from 'node:fs/promises';

export const READER_BLOCK_SIZE = 16 * 1024 * 1024;

export interface ReadResult {
  data: Buffer;
  eof: boolean;
}

export class RsyncFileReader {
  private path = '';
  private file: FileHandle | undefined;
  private totalSize = 0;
  private blockStart = -1;
  private block = Buffer.alloc(0);
  private queue: Promise<unknown> = Promise.resolve();

  /** Serialized like the reader's mutex. Rejects when the file cannot be opened or read (→ kErr). */
  read(path: string, offset: number, count: number): Promise<ReadResult> {
    const next = this.queue.then(() => this.readLocked(path, offset, count));
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.reset();
  }

  private async readLocked(path: string, offset: number, count: number): Promise<ReadResult> {
    const blockEnd = this.blockStart + this.block.length;
    if (path !== this.path || offset < this.blockStart || offset >= blockEnd) await this.readAhead(path, offset);
    const end = this.blockStart + this.block.length;
    const inBlock = offset % READER_BLOCK_SIZE;
    // Pika: copy = count > end − offset ? end − offset : count, in size_t (offset past the end wraps → count).
    const copy = offset <= end ? Math.min(count, end - offset) : count;
    // Inside the block: a view (a block is never written after it is read; the next read allocates a new one).
    if (inBlock + copy <= this.block.length) return { data: this.block.subarray(inBlock, inBlock + copy), eof: offset + copy === this.totalSize };
    const data = Buffer.alloc(copy);
    if (inBlock < this.block.length) this.block.copy(data, 0, inBlock, Math.min(this.block.length, inBlock + copy));
    return { data, eof: offset + copy === this.totalSize };
  }

  private async readAhead(path: string, offset: number): Promise<void> {
    if (path !== this.path) {
      await this.reset();
      const file = await open(path, 'r');
      try {
        this.totalSize = (await file.stat()).size;
      } catch (err) {
        await file.close();
        throw err;
      }
      this.file = file;
      this.path = path;
    }
    this.blockStart = Math.floor(offset / READER_BLOCK_SIZE) * READER_BLOCK_SIZE;
    const want = Math.max(0, Math.min(READER_BLOCK_SIZE, this.totalSize - this.blockStart));
    const buffer = Buffer.alloc(want);
    let got = 0;
    try {
      while (got < want) {
        const { bytesRead } = await this.file!.read(buffer, got, want - got, this.blockStart + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (err) {
      await this.reset();
      throw err;
    }
    this.block = buffer.subarray(0, got);
  }

  private async reset(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    this.path = '';
    this.blockStart = -1;
    this.block = Buffer.alloc(0);
    this.totalSize = 0;
    await file?.close();
  }
}
