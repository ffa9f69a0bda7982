import type { BlockHandle } from './table.ts';

/**
 * The data-block index of one table, packed: separator keys back to back in one byte array, handles in typed
 * arrays. A table of 10,000 blocks costs a few hundred KiB instead of 20,000 small objects, which matters when a
 * column family has many level-0 files open at once.
 */
export class BlockIndex {
  private keyBytes = new Uint8Array(4096);
  private keyEnds = new Uint32Array(64);
  private offsets = new Float64Array(64);
  private sizes = new Float64Array(64);
  count = 0;

  /** Appends block `count`: separator `key[0, keyLen)` and its handle. */
  add(key: Uint8Array, keyLen: number, handle: BlockHandle): void {
    const n = this.count;
    if (n === this.keyEnds.length) {
      this.keyEnds = grow(this.keyEnds, new Uint32Array(n * 2));
      this.offsets = grow(this.offsets, new Float64Array(n * 2));
      this.sizes = grow(this.sizes, new Float64Array(n * 2));
    }
    const start = n === 0 ? 0 : this.keyEnds[n - 1]!;
    const end = start + keyLen;
    if (end > this.keyBytes.length) this.keyBytes = grow(this.keyBytes, new Uint8Array(Math.max(end, this.keyBytes.length * 2)));
    const bytes = this.keyBytes;
    for (let i = 0; i < keyLen; i++) bytes[start + i] = key[i]!;
    this.keyEnds[n] = end;
    this.offsets[n] = handle.offset;
    this.sizes[n] = handle.size;
    this.count = n + 1;
  }

  /** Separator of block i: >= every key of block i and < every key of block i + 1 (a view). */
  key(i: number): Uint8Array {
    return this.keyBytes.subarray(i === 0 ? 0 : this.keyEnds[i - 1]!, this.keyEnds[i]!);
  }

  offset(i: number): number {
    return this.offsets[i]!;
  }

  size(i: number): number {
    return this.sizes[i]!;
  }

  handle(i: number): BlockHandle {
    return { offset: this.offsets[i]!, size: this.sizes[i]! };
  }

  /** Drops the spare capacity once the index is complete. */
  trim(): void {
    const n = this.count;
    this.keyBytes = this.keyBytes.slice(0, n === 0 ? 0 : this.keyEnds[n - 1]!);
    this.keyEnds = this.keyEnds.slice(0, n);
    this.offsets = this.offsets.slice(0, n);
    this.sizes = this.sizes.slice(0, n);
  }
}

function grow<T extends Uint8Array | Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
