import { join } from 'node:path';
import type { UserComparator } from './comparators.ts';
import { RocksDbFormatError } from './errors.ts';
import { internalKeyComparator, TableIterator, type InternalIterator } from './iterators.ts';
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
 * Iterates one sorted run (a level >= 1: files with disjoint key ranges, ordered by smallest key), keeping only
 * one of its files open at a time (RocksDB's LevelIterator). Uses the MANIFEST's smallest/largest keys to seek.
 */
export class LevelIterator implements InternalIterator {
  private readonly dir: string;
  private readonly files: SstFileMeta[];
  private readonly cf: { name: string; comparator: string };
  private readonly ucmp: UserComparator;
  private readonly icmp: (a: Uint8Array, b: Uint8Array) => number;
  private fileIndex = -1;
  private table: Table | undefined;
  private iter: TableIterator | undefined;

  constructor(dir: string, files: SstFileMeta[], cf: { name: string; comparator: string }, ucmp: UserComparator) {
    this.dir = dir;
    this.cf = cf;
    this.ucmp = ucmp;
    this.icmp = internalKeyComparator(ucmp);
    this.files = [...files].sort((a, b) => this.icmp(a.smallest, b.smallest));
  }

  get source(): string {
    return this.table?.path ?? this.dir;
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
    await this.openFile(0);
    await this.iter?.seekToFirst();
    await this.skipExhaustedFiles();
  }

  async seek(target: Uint8Array): Promise<void> {
    let lo = 0;
    let hi = this.files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.icmp(this.files[mid]!.largest, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    await this.openFile(lo);
    await this.iter?.seek(target);
    await this.skipExhaustedFiles();
  }

  async next(): Promise<void> {
    await this.iter!.next();
    await this.skipExhaustedFiles();
  }

  async close(): Promise<void> {
    const t = this.table;
    this.table = undefined;
    this.iter = undefined;
    this.fileIndex = -1;
    await t?.close();
  }

  private async skipExhaustedFiles(): Promise<void> {
    while (this.iter && !this.iter.valid) {
      await this.openFile(this.fileIndex + 1);
      await this.iter?.seekToFirst();
    }
  }

  private async openFile(i: number): Promise<void> {
    if (i === this.fileIndex && this.table) return;
    await this.close();
    this.fileIndex = i;
    if (i >= this.files.length) return;
    this.table = await openTable(this.dir, this.files[i]!, this.cf);
    this.iter = new TableIterator(this.table, this.ucmp);
  }
}
