import { join } from 'node:path';
import { BlockIter, type Block, type RawKeyCompare } from './block.ts';
import type { BlockThreadUse } from './block-thread.ts';
import type { UserComparator } from './comparators.ts';
import { DataBlockReader } from './data-block-reader.ts';
import { RocksDbFormatError } from './errors.ts';
import { internalKeyComparator, userKeyComparator, type InternalIterator, type Step } from './iterators.ts';
import type { SstFileMeta } from './manifest.ts';
import { Table } from './table.ts';

export function sstPath(dir: string, number: number): string {
  return join(dir, `${String(number).padStart(6, '0')}.sst`);
}

/** Opens an SST and checks that it was written with the column family's comparator. */
export async function openTable(dir: string, file: SstFileMeta, cf: { name: string; comparator: string }): Promise<Table> {
  const table = await Table.open(sstPath(dir, file.number));
  const written = table.properties.comparator;
  if (written !== undefined && written !== cf.comparator) {
    await table.close();
    throw new RocksDbFormatError(table.path, `comparator "${written}" differs from the MANIFEST's "${cf.comparator}" for column family "${cf.name}"`);
  }
  return table;
}

/**
 * The files of one sorted run, ordered by key with disjoint ranges: a level >= 1, or a single level-0 file.
 * `open` may hand out a table that stays open elsewhere; `release` is called when the iterator moves on.
 */
export interface SortedRun {
  readonly dir: string;
  readonly files: SstFileMeta[];
  open(i: number): Promise<Table>;
  release(table: Table): Promise<void>;
}

/** A level's files, each opened when the iterator reaches it and closed when it leaves it. */
export function levelRun(dir: string, files: SstFileMeta[], cf: { name: string; comparator: string }, ucmp: UserComparator): SortedRun {
  const icmp = internalKeyComparator(ucmp);
  const sorted = [...files].sort((a, b) => icmp(a.smallest, a.smallest.length, b.smallest, b.smallest.length));
  return { dir, files: sorted, open: (i) => openTable(dir, sorted[i]!, cf), release: (t) => t.close() };
}

/** One level-0 table, already open (and closed by its owner). */
export function tableRun(table: Table, file: SstFileMeta): SortedRun {
  return { dir: table.path, files: [file], open: async () => table, release: async () => undefined };
}

/**
 * Iterates a sorted run (RocksDB's LevelIterator and block-based table iterator in one), keeping one file open
 * and one data block decoded at a time. Steps within a block are synchronous; only reading blocks is not, and
 * the DataBlockReader reads ahead so that a forward scan mostly finds the next block in memory. The MANIFEST's
 * largest keys choose the file for a seek, the index the block.
 */
export class LevelIterator implements InternalIterator {
  private readonly run: SortedRun;
  private readonly ucmp: RawKeyCompare;
  private readonly icmp: RawKeyCompare;
  private readonly iter = new BlockIter();
  private fileIndex = -1;
  private table: Table | undefined;
  private reader: DataBlockReader | undefined;
  private blockIndex = -1;
  valid = false;

  private readonly blockThread: BlockThreadUse | undefined;

  constructor(run: SortedRun, ucmp: UserComparator, blockThread?: BlockThreadUse) {
    this.run = run;
    this.blockThread = blockThread;
    this.ucmp = userKeyComparator(ucmp);
    this.icmp = internalKeyComparator(ucmp);
    this.iter.trackUserKeys = true;
  }

  get source(): string {
    return this.table?.path ?? this.run.dir;
  }
  get keyBuf(): Uint8Array {
    return this.iter.keyBuf;
  }
  get keyLen(): number {
    return this.iter.keyLen;
  }
  get valueBuf(): Uint8Array {
    return this.iter.data;
  }
  get valueStart(): number {
    return this.iter.valueStart;
  }
  get valueEnd(): number {
    return this.iter.valueEnd;
  }
  get repeatsUserKey(): boolean {
    return this.iter.repeatsUserKey;
  }

  async seekToFirst(): Promise<void> {
    await this.toFileStart(0);
  }

  seek(target: Uint8Array): Step {
    const t = this.table;
    if (this.valid && t && this.icmp(target, target.length, this.iter.keyBuf, this.iter.keyLen) >= 0) {
      // Forward: stay in this block when the target is not past its separator, else look further on.
      if (this.separatorAtLeast(this.blockIndex, target)) {
        this.guard(() => this.iter.seekForward(target, this.icmp));
        return this.iter.valid ? undefined : this.toBlockStart(this.blockIndex + 1);
      }
      const b = this.findBlock(target, this.blockIndex + 1);
      if (b < t.dataBlocks.count) return this.seekInBlock(b, target);
      return this.seekFile(target, this.fileIndex + 1);
    }
    return this.seekFile(target, 0);
  }

  next(): Step {
    try {
      this.iter.next();
    } catch (err) {
      throw this.corrupted(err);
    }
    if (this.iter.valid) return undefined;
    return this.toBlockStart(this.blockIndex + 1);
  }

  async close(): Promise<void> {
    const t = this.table;
    const r = this.reader;
    this.table = undefined;
    this.reader = undefined;
    this.fileIndex = -1;
    this.blockIndex = -1;
    this.iter.block = undefined;
    this.valid = false;
    await r?.close();
    if (t) await this.run.release(t);
  }

  /** First file at or after `from` whose largest key is >= target, then the block there. */
  private async seekFile(target: Uint8Array, from: number): Promise<void> {
    const files = this.run.files;
    let lo = from;
    let hi = files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const largest = files[mid]!.largest;
      if (this.icmp(largest, largest.length, target, target.length) < 0) lo = mid + 1;
      else hi = mid;
    }
    await this.openFile(lo);
    if (!this.table) return;
    const b = this.findBlock(target, 0);
    await this.seekInBlock(b, target);
  }

  /** First block at or after `from` whose index separator is >= target (the block count when none is). */
  private findBlock(target: Uint8Array, from: number): number {
    let lo = from;
    let hi = this.table!.dataBlocks.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.separatorAtLeast(mid, target)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private separatorAtLeast(block: number, target: Uint8Array): boolean {
    const t = this.table!;
    const sep = t.dataBlocks.key(block);
    const c = t.properties.indexKeyIsUserKey ? this.ucmp(sep, sep.length, target, target.length - 8) : this.icmp(sep, sep.length, target, target.length);
    return c >= 0;
  }

  private seekInBlock(b: number, target: Uint8Array): Step {
    if (b >= this.table!.dataBlocks.count) return this.toFileStart(this.fileIndex + 1);
    if (b === this.blockIndex && this.iter.block) return this.finishSeekInBlock(b, target);
    const block = this.reader!.tryGet(b);
    if (!block) {
      return this.reader!.load(b).then((loaded) => {
        this.useBlock(b, loaded);
        return this.finishSeekInBlock(b, target);
      });
    }
    this.useBlock(b, block);
    return this.finishSeekInBlock(b, target);
  }

  private finishSeekInBlock(b: number, target: Uint8Array): Step {
    this.guard(() => this.iter.seek(target, this.icmp));
    if (this.iter.valid) {
      this.valid = true;
      return undefined;
    }
    return this.toBlockStart(b + 1);
  }

  /** Positions at the first entry of block `i` or of a later block or file. */
  private toBlockStart(i: number): Step {
    for (;;) {
      const t = this.table;
      if (!t) {
        this.valid = false;
        return undefined;
      }
      if (i >= t.dataBlocks.count) return this.toFileStart(this.fileIndex + 1);
      const block = this.reader!.tryGet(i);
      if (!block) {
        const at = i;
        return this.reader!.load(at).then((loaded) => {
          this.useBlock(at, loaded);
          this.guard(() => this.iter.seekToFirst());
          if (this.iter.valid) {
            this.valid = true;
            return undefined;
          }
          return this.toBlockStart(at + 1);
        });
      }
      this.useBlock(i, block);
      this.guard(() => this.iter.seekToFirst());
      if (this.iter.valid) {
        this.valid = true;
        return undefined;
      }
      i++;
    }
  }

  private async toFileStart(f: number): Promise<void> {
    await this.openFile(f);
    if (!this.table) return;
    await this.toBlockStart(0);
  }

  private useBlock(i: number, block: Block): void {
    this.blockIndex = i;
    this.iter.reset(block);
  }

  private async openFile(i: number): Promise<void> {
    if (i === this.fileIndex && this.table) return;
    await this.close();
    this.fileIndex = i;
    if (i >= this.run.files.length) return;
    this.table = await this.run.open(i);
    this.reader = new DataBlockReader(this.table, this.blockThread);
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      throw this.corrupted(err);
    }
  }

  private corrupted(err: unknown): RocksDbFormatError {
    if (err instanceof RocksDbFormatError) return err;
    const t = this.table;
    const at = t && this.blockIndex >= 0 && this.blockIndex < t.dataBlocks.count ? t.dataBlocks.offset(this.blockIndex) : undefined;
    return new RocksDbFormatError(this.source, `data block is corrupted: ${(err as Error).message}`, at, err);
  }
}
