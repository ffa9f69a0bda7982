import { BlockIter } from './block.ts';
import type { UserComparator } from './comparators.ts';
import { RocksDbFormatError } from './errors.ts';
import { userKeyOf } from './internal-key.ts';
import type { Table } from './table.ts';

/**
 * Cursor over internal keys in internal-key order. Positioning methods are async (they may read a block);
 * `key`/`value` are valid until the next positioning call. `source` names the file for error messages.
 */
export interface InternalIterator {
  readonly source: string;
  readonly valid: boolean;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  seekToFirst(): Promise<void>;
  /** First entry with internal key >= target. */
  seek(target: Uint8Array): Promise<void>;
  next(): Promise<void>;
}

/** Internal-key order: user key ascending by `cmp`, then (sequence << 8 | type) descending. */
export function internalKeyComparator(cmp: UserComparator): (a: Uint8Array, b: Uint8Array) => number {
  return (a, b) => {
    const c = cmp.compare(a.subarray(0, a.length - 8), b.subarray(0, b.length - 8));
    if (c !== 0) return c;
    for (let i = 7; i >= 0; i--) {
      const d = b[b.length - 8 + i]! - a[a.length - 8 + i]!;
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return 0;
  };
}

/** An internal key that sorts before every entry of `userKey` (maximum sequence and type). */
export function seekKeyFor(userKey: Uint8Array): Uint8Array {
  const k = new Uint8Array(userKey.length + 8);
  k.set(userKey, 0);
  k.fill(0xff, userKey.length);
  return k;
}

/** Iterates one SST file, holding only the current data block in memory. */
export class TableIterator implements InternalIterator {
  readonly source: string;
  private readonly table: Table;
  private readonly icmp: (a: Uint8Array, b: Uint8Array) => number;
  private readonly ucmp: UserComparator;
  private blockIndex = -1;
  private iter: BlockIter | undefined;

  constructor(table: Table, ucmp: UserComparator) {
    this.table = table;
    this.source = table.path;
    this.ucmp = ucmp;
    this.icmp = internalKeyComparator(ucmp);
  }

  get valid(): boolean {
    return this.iter !== undefined && this.iter.valid;
  }
  get key(): Uint8Array {
    return this.iter!.key;
  }
  get value(): Uint8Array {
    return this.iter!.value;
  }

  async seekToFirst(): Promise<void> {
    await this.loadBlock(0);
    if (this.iter) this.guard(() => this.iter!.seekToFirst());
    await this.skipEmptyBlocks();
  }

  async seek(target: Uint8Array): Promise<void> {
    const keys = this.table.indexKeys;
    const userIndex = this.table.properties.indexKeyIsUserKey;
    const targetUser = userKeyOf(target);
    // First block whose separator is >= target: every earlier block holds only smaller keys.
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = userIndex ? this.ucmp.compare(keys[mid]!, targetUser) : this.icmp(keys[mid]!, target);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    await this.loadBlock(lo);
    if (this.iter) this.guard(() => this.iter!.seek(target, this.icmp));
    await this.skipEmptyBlocks();
  }

  async next(): Promise<void> {
    this.guard(() => this.iter!.next());
    await this.skipEmptyBlocks();
  }

  private async skipEmptyBlocks(): Promise<void> {
    while (this.iter && !this.iter.valid) {
      await this.loadBlock(this.blockIndex + 1);
      if (this.iter) this.guard(() => this.iter!.seekToFirst());
    }
  }

  private async loadBlock(i: number): Promise<void> {
    this.blockIndex = i;
    if (i >= this.table.dataBlocks.length) {
      this.iter = undefined;
      return;
    }
    this.iter = new BlockIter(await this.table.dataBlock(i));
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof RocksDbFormatError) throw err;
      const h = this.table.dataBlocks[this.blockIndex];
      throw new RocksDbFormatError(this.table.path, `data block is corrupted: ${(err as Error).message}`, h?.offset, err);
    }
  }
}

/** Sorted in-memory entries (the WAL replay, i.e. what would be the memtable). */
export class MemIterator implements InternalIterator {
  readonly source: string;
  private readonly entries: { key: Uint8Array; value: Uint8Array }[];
  private readonly icmp: (a: Uint8Array, b: Uint8Array) => number;
  private pos = 0;

  constructor(source: string, entries: { key: Uint8Array; value: Uint8Array }[], ucmp: UserComparator) {
    this.source = source;
    this.icmp = internalKeyComparator(ucmp);
    this.entries = [...entries].sort((a, b) => this.icmp(a.key, b.key));
    this.pos = this.entries.length;
  }

  get valid(): boolean {
    return this.pos < this.entries.length;
  }
  get key(): Uint8Array {
    return this.entries[this.pos]!.key;
  }
  get value(): Uint8Array {
    return this.entries[this.pos]!.value;
  }
  async seekToFirst(): Promise<void> {
    this.pos = 0;
  }
  async seek(target: Uint8Array): Promise<void> {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.icmp(this.entries[mid]!.key, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.pos = lo;
  }
  async next(): Promise<void> {
    this.pos++;
  }
}

/**
 * k-way merge of child iterators (a binary heap). Children are given newest first; on equal internal keys the
 * earlier child wins, so a memtable entry shadows an SST entry with the same sequence number.
 */
export class MergingIterator implements InternalIterator {
  private readonly children: InternalIterator[];
  private readonly icmp: (a: Uint8Array, b: Uint8Array) => number;
  private heap: number[] = [];

  constructor(children: InternalIterator[], ucmp: UserComparator) {
    this.children = children;
    this.icmp = internalKeyComparator(ucmp);
  }

  get source(): string {
    return this.heap.length ? this.children[this.heap[0]!]!.source : '(end)';
  }
  get valid(): boolean {
    return this.heap.length > 0;
  }
  get key(): Uint8Array {
    return this.children[this.heap[0]!]!.key;
  }
  get value(): Uint8Array {
    return this.children[this.heap[0]!]!.value;
  }

  async seekToFirst(): Promise<void> {
    for (const c of this.children) await c.seekToFirst();
    this.rebuild();
  }

  async seek(target: Uint8Array): Promise<void> {
    for (const c of this.children) await c.seek(target);
    this.rebuild();
  }

  async next(): Promise<void> {
    const top = this.heap[0]!;
    await this.children[top]!.next();
    if (!this.children[top]!.valid) {
      const last = this.heap.pop()!;
      if (this.heap.length === 0) return;
      this.heap[0] = last;
    }
    this.siftDown(0);
  }

  private less(i: number, j: number): boolean {
    const c = this.icmp(this.children[i]!.key, this.children[j]!.key);
    return c < 0 || (c === 0 && i < j);
  }

  private rebuild(): void {
    this.heap = [];
    this.children.forEach((c, i) => {
      if (c.valid) this.heap.push(i);
    });
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
